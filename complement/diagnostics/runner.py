"""Running a diagnostic: parameter checking and binding, table and view checks, and DuckDB.

Parameters are bound as DuckDB ``$name`` values, never formatted into the SQL. Each value is cast
to its declared type by DuckDB first, so a wrong value gets one clear line before anything runs."""

from __future__ import annotations

import functools
import numbers
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeGuard

import duckdb
import pyarrow as pa
from rich.progress import TaskID

from .. import tables
from ..checks import comma_list
from ..db import check_read_only, connect, empty_select
from ..errors import ComplementError, ConfigError, WorkspaceError, did_you_mean
from ..progress import progress
from ..sandbox import interruptible, is_interruption, open_sandbox
from ..workspace import Workspace
from .buckets import bucket_users, plain_sources, run_in_buckets
from .headers import MACROS_PATH, SQL_DIR, Diagnostic, Param, find

# Parameters whose values are view names, and the tables whose parts are those views.
VIEW_PARAMS = ("view", "view_a", "view_b", "views")
VIEW_TABLES = ("topk", "neighbors", "embeddings")
# Tables of ranked lists: a cut-off k is meaningful only up to the lists' stored length.
RANKED_TABLES = ("topk", "neighbors")

# A plain decimal integer, optionally signed; surrounding blanks (from shell quoting) are ignored.
# "2.5", "0x10", "1e1", "1_000" are refused rather than silently read as another number.
_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cast(con: duckdb.DuckDBPyConnection, value: Any, type_name: str) -> Any:
    return con.sql(f"SELECT CAST($value AS {type_name}) AS v", params={"value": value}).fetchall()[0][0]


@functools.cache
def _is_integer_type(type_name: str) -> bool:
    """Whether a declared type (or a list's element type) is an integer type, under any of DuckDB's
    names for it (INTEGER, INT, INT4, BIGINT, UBIGINT, HUGEINT, ...)."""
    con = duckdb.connect(":memory:")
    try:
        value = con.execute(f"SELECT CAST(0 AS {type_name.removesuffix('[]')})").fetchall()[0][0]
    except duckdb.Error:
        return False  # an unknown type: the cast below reports it
    finally:
        con.close()
    return isinstance(value, int) and not isinstance(value, bool)


def plain_integer(value: Any) -> int | None:
    """``value`` as an int when it is one (numpy's too) or a string of a plain decimal integer, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _strict_integers(diagnostic: Diagnostic, param: Param, value: Any) -> Any:
    """Integer parameters take only plain decimal integers (DuckDB's cast would round 2.5 and read 0x10)."""
    values = value if isinstance(value, list) else [value]
    checked = []
    for item in values:
        number = plain_integer(item)
        if number is None:
            raise ConfigError(
                f"diagnostic '{diagnostic.name}': parameter {param.name} expects {param.type}, a whole number in plain "
                f"decimal digits, got {item!r}"
            )
        if not _fits(number, param.type):
            raise ComplementError(
                f"diagnostic '{diagnostic.name}': parameter {param.name} is {param.type}, and {number} is outside its "
                "range"
            )
        checked.append(number)
    return checked if isinstance(value, list) else checked[0]


def _fits(number: int, type_name: str) -> bool:
    """Whether DuckDB casts ``number`` to the integer type (INTEGER is 32-bit: 2147483648 does not fit)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SELECT CAST(? AS {type_name.removesuffix('[]')})", [str(number)]).fetchall()
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def coerce(diagnostic: Diagnostic, param: Param, value: Any) -> Any:
    """``value`` (a Python value, or a string from the command line) as the parameter's type. Text that does
    not read as the type is a :class:`ConfigError` (a usage error on the command line); a value outside its
    bounds, a :class:`ComplementError`."""
    if isinstance(value, str) and param.type.endswith("[]"):
        value = comma_list(f"parameter {param.name}", value, distinct=param.name in VIEW_PARAMS)
    elif isinstance(value, (tuple, set, frozenset)):
        value = list(value)
    if _is_integer_type(param.type):
        value = _strict_integers(diagnostic, param, value)
    for item in value if isinstance(value, list) else [value]:
        # DuckDB's cast reads '1_0.5' as 10.5: a number typed on the command line is plain ASCII, as every
        # numeric option's is (cli.options.number_parser)
        if isinstance(item, str) and param.type.upper().startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL")):
            if not item.isascii() or "_" in item:
                raise ConfigError(
                    f"diagnostic '{diagnostic.name}': parameter {param.name} expects {param.type}, a number in plain "
                    f"ASCII digits, got {item!r}"
                )
    con = duckdb.connect(":memory:")
    try:
        value = _cast(con, value, param.type)
    except duckdb.Error:
        raise ConfigError(
            f"diagnostic '{diagnostic.name}': parameter {param.name} expects {param.type}, got {value!r}"
        ) from None
    finally:
        con.close()
    if param.name in ("k", "n_perm", "n_boot") and isinstance(value, int) and value < 1:
        raise ComplementError(f"diagnostic '{diagnostic.name}': parameter {param.name} must be at least 1, got {value}")
    return value


def default_value(diagnostic: Diagnostic, param: Param) -> Any:
    con = duckdb.connect(":memory:")
    try:
        return con.sql(f"SELECT CAST({param.default} AS {param.type}) AS v").fetchall()[0][0]
    except duckdb.Error as exc:
        raise ComplementError(
            f"{diagnostic.path}: default of parameter {param.name} does not parse as {param.type}: {_first_line(exc)}"
        ) from None
    finally:
        con.close()


def bind(diagnostic: Diagnostic, params: dict[str, Any]) -> dict[str, Any]:
    """Declared parameters with their values: given, else the default; unknown or missing ones are errors."""
    declared = {p.name: p for p in diagnostic.params}
    for name in params:
        if name not in declared:
            have = ", ".join(declared) or "none"
            raise ComplementError(f"diagnostic '{diagnostic.name}' has no parameter '{name}' (its parameters: {have})")
    undeclared = sorted(diagnostic.bindings - set(declared))
    if undeclared:
        raise ComplementError(
            f"{diagnostic.path}: ${undeclared[0]} is used but not declared; "
            f"add '-- param: {undeclared[0]} TYPE' to the header"
        )
    values = {}
    for name, param in declared.items():
        if name in params and params[name] is not None:
            values[name] = coerce(diagnostic, param, params[name])
        elif param.required:
            hint = " (pass --views A,B)" if name in VIEW_PARAMS else f" (pass -p {name} VALUE)"
            raise ComplementError(f"diagnostic '{diagnostic.name}' needs parameter {name} {param.type}{hint}")
        else:
            values[name] = default_value(diagnostic, param)
    # DuckDB refuses a binding the statement does not use; an unused declared one is a header bug.
    return {name: value for name, value in values.items() if name in diagnostic.bindings}


def check_views(workspace: Workspace, diagnostic: Diagnostic, values: dict[str, Any]) -> None:
    """Every view a parameter names must exist in the table the diagnostic reads views from."""
    table = next((t for t in diagnostic.requires if t in VIEW_TABLES), None)
    if table is None:
        return
    have = workspace.parts(table)
    for name in VIEW_PARAMS:
        given = values.get(name)
        for view in [given] if isinstance(given, str) else (given or []):
            if view not in have:
                raise WorkspaceError(
                    f"view '{view}' is not in the '{table}' table{did_you_mean(view, have)} "
                    f"(views: {', '.join(have) or 'none'}){how_to_make(workspace, table, view)}"
                )


def how_to_make(workspace: Workspace, table: str, view: str) -> str:
    """What to run when ``view`` has vectors but not the ``table`` rows a diagnostic reads ('' otherwise)."""
    if view not in workspace.parts("embeddings"):
        return ""
    if table == "neighbors":
        return f"; make its item neighbours with `complement neighbors --view {view}`"
    if table == "topk":
        users = (
            workspace.query("SELECT count(*) AS n FROM embeddings WHERE view = ? AND entity = 'user'", [view])
            .column(0)[0]
            .as_py()
        )
        if users:
            return f"; make its lists with `complement topk --view {view}`"
        return f"; view '{view}' has item vectors only (text vectors, say), and diagnostics compare users' top-K lists"
    return ""


def check_fresh(workspace: Workspace, diagnostic: Diagnostic, values: dict[str, Any]) -> None:
    """Refuse views whose lists or vectors were made from inputs that have changed since (a new split,
    another dataset, re-made vectors): scoring them against today's tables would be silently wrong."""
    named = [
        v
        for name in VIEW_PARAMS
        for v in ([values.get(name)] if isinstance(values.get(name), str) else values.get(name) or [])
    ]
    for table in diagnostic.requires:
        if table in VIEW_TABLES:
            have = workspace.parts(table)
            workspace.check_fresh_views(table, [view for view in named or have if view in have])


def _load_macros(con: duckdb.DuckDBPyConnection, optional: Sequence[str] = ()) -> None:
    """Give each of the ``optional`` tables the connection lacks an empty view of its schema (a
    diagnostic that lists it as optional, ``runs?``, reads it empty), then create the shared macros.
    A macro over a table the workspace lacks is skipped: a diagnostic that needs the table lists it
    in ``requires`` and is refused before it runs, and a user's file that reads it gets DuckDB's
    "does not exist". (Both the built-ins' connection and the sandbox of a user's file are set up here.)"""
    present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name in optional:
        if name not in present:
            con.execute(f"CREATE VIEW {name} AS {empty_select(name)}")
    for statement in duckdb.extract_statements(MACROS_PATH.read_text(encoding="utf-8")):
        try:
            con.execute(statement.query)
        except duckdb.CatalogException:
            continue


def stored_length(workspace: Workspace, table: str, view: str) -> int:
    """The longest list stored for ``view`` in a ranked table (its maximum rank; 0 when empty).

    Read from the Parquet statistics when the files have them, else from the rank column."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    longest = 0
    for path in workspace.table_files(table, part=view):
        meta = pq.ParquetFile(path).metadata
        column = meta.schema.names.index("rank")
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(column).statistics
            if stats is None or not stats.has_min_max:
                rank = pq.read_table(path, columns=["rank"]).column(0)
                longest = max(longest, pc.max(rank).as_py() or 0)
                break
            longest = max(longest, int(stats.max))
    return longest


def involved_views(workspace: Workspace, diagnostic: Diagnostic, table: str, values: dict[str, Any]) -> list[str]:
    """The views a run reads: those its view parameters name, and every view of ``table`` when it
    has no view parameter or a ``views`` list left empty (which means every view)."""
    declared = {p.name for p in diagnostic.params}
    named: list[str] = []
    every = not (declared & set(VIEW_PARAMS))
    for name in VIEW_PARAMS:
        if name not in declared:
            continue
        given = values.get(name)
        if isinstance(given, str):
            named.append(given)
        elif given:
            named.extend(given)
        elif name == "views":
            every = True
    views = workspace.parts(table) if every else []
    return sorted(set(views) | set(named))


def check_k(workspace: Workspace, diagnostic: Diagnostic, values: dict[str, Any]) -> None:
    """Refuse a cut-off k longer than the shortest stored list of the views the diagnostic reads:
    Recall@1000 over lists of 100 would be Recall@100 under another name."""
    k = values.get("k")
    table = next((t for t in diagnostic.requires if t in RANKED_TABLES), None)
    if not isinstance(k, int) or table is None or not workspace.has_table(table):
        return
    lengths = {
        view: stored_length(workspace, table, view) for view in involved_views(workspace, diagnostic, table, values)
    }
    lengths = {view: n for view, n in lengths.items() if n > 0}
    if not lengths:
        return
    view, shortest = min(lengths.items(), key=lambda item: (item[1], item[0]))
    if k > shortest:
        raise ComplementError(
            f"diagnostic '{diagnostic.name}': k = {k} is longer than the lists stored for view '{view}' in '{table}' "
            f"({shortest}); pass k <= {shortest} (e.g. --k {min(shortest, 10)} or -p k {min(shortest, 10)}), or store "
            "longer lists"
        )


def is_builtin(diagnostic: Diagnostic) -> bool:
    """One of complement's own diagnostics (trusted SQL); any other file is the user's."""
    return diagnostic.path.resolve().parent == SQL_DIR


def _run_in_buckets(
    workspace: Workspace, con: duckdb.DuckDBPyConnection, diagnostic: Diagnostic, statement: str, bound: dict[str, Any]
) -> pa.Table | None:
    """The statement with its per-user stage run one user bucket at a time (None: one bucket holds
    every user), with a bar of the buckets on a terminal."""
    assert diagnostic.stage is not None
    with progress(transient=True) as bar:
        task: list[TaskID] = []

        def on_bucket(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task(f"{diagnostic.name}: user buckets", total=total))
            bar.update(task[0], completed=done)

        return run_in_buckets(
            con, statement, diagnostic.stage, bound, bucket_users(), on_bucket, lambda: plain_sources(workspace)
        )


def _run_once(workspace: Workspace, diagnostic: Diagnostic, bound: dict[str, Any]) -> pa.Table:
    statement = check_read_only(diagnostic.sql)[0]
    if is_builtin(diagnostic):
        con = connect(workspace, read_only_sql=True)
    else:
        # user SQL: it can read, never write
        con = open_sandbox(workspace, setup=lambda con: _load_macros(con, diagnostic.optional))
    try:
        if is_builtin(diagnostic):
            _load_macros(con, diagnostic.optional)
        with interruptible(con):  # Ctrl-C stops the query, not only the wait for it
            if diagnostic.stage is not None and is_builtin(diagnostic):
                staged = _run_in_buckets(workspace, con, diagnostic, statement, bound)
                if staged is not None:
                    return staged
            relation = con.sql(statement, params=bound) if bound else con.sql(statement)
            return relation.to_arrow_table()
    except (duckdb.Error, RuntimeError) as exc:
        if is_interruption(exc):
            raise KeyboardInterrupt from None
        if not isinstance(exc, duckdb.Error):
            raise
        raise ComplementError(f"diagnostic '{diagnostic.name}' failed: SQL error: {_first_line(exc)}") from None
    finally:
        con.close()


def is_k_list(ks: object) -> TypeGuard[Sequence[Any]]:
    """Whether a ``k`` parameter is a list of cut-offs (one run per K) rather than one value."""
    return isinstance(ks, Sequence) and not isinstance(ks, str)


def per_k(
    diagnostic: Diagnostic,
    ks: Sequence[Any],
    run_one: Callable[[Any], pa.Table],
    check: Callable[[list[Any]], None] | None = None,
) -> pa.Table:
    """``run_one(k)`` for each K of ``ks``, stacked under a leading int32 ``k`` column (the K coerced to
    the declared type). Every K is coerced, and ``check(k_values)`` called, before the first run."""
    k_param = diagnostic.param("k")
    if k_param is None:
        raise ComplementError(f"diagnostic '{diagnostic.name}' takes no parameter k")
    k_values = [coerce(diagnostic, k_param, k) for k in ks]
    if k_values and check is not None:
        check(k_values)
    results = []
    for k, k_value in zip(ks, k_values, strict=True):
        table = run_one(k)
        results.append(table.add_column(0, "k", pa.array([k_value] * table.num_rows, pa.int32())))
    return pa.concat_tables(results) if results else pa.table({"k": pa.array([], pa.int32())})


def diagnose(
    workspace: Workspace | str | os.PathLike, name: str, *, allow_stale: bool = False, **params: Any
) -> pa.Table:
    """Run the diagnostic ``name`` (a built-in name or a path to a ``.sql`` file) and return its rows.

    ``params`` are its declared parameters (``k``, ``view_a``, ``view_b``, ``views`` ...). A list
    for ``k`` runs it once per K and prepends a ``k`` column. A view made from inputs that changed
    since is refused unless ``allow_stale``. Example::

        complement.diagnose("ws", "overlap", view_a="lightgcn", view_b="sem", k=[10, 20])
    """
    if not isinstance(workspace, Workspace):
        workspace = Workspace(workspace)
    diagnostic = find(name)
    if len(check_read_only(diagnostic.sql)) != 1:
        raise ComplementError(f"{diagnostic.path}: a diagnostic file holds exactly one statement")
    ks = params.get("k")
    if is_k_list(ks):
        ws = workspace  # the closures below see it as a Workspace (mypy does not narrow into them)

        def check_largest(k_values: list[Any]) -> None:  # the views and tables, at the largest K
            bound = bind(diagnostic, {**params, "k": max(k_values)})
            ws.require(*diagnostic.requires)
            check_views(ws, diagnostic, bound)
            check_k(ws, diagnostic, bound)

        return per_k(
            diagnostic,
            ks,
            lambda k: diagnose(ws, name, allow_stale=allow_stale, **{**params, "k": k}),
            check_largest,
        )
    bound = bind(diagnostic, params)
    workspace.require(*diagnostic.requires)
    # renamed columns or ids stored twice would give a DuckDB error or silently double-counted metrics
    named = [v for p in VIEW_PARAMS for v in ([bound[p]] if isinstance(bound.get(p), str) else bound.get(p) or [])]
    tables.check_tables(workspace, *diagnostic.requires, views=named or None)
    check_views(workspace, diagnostic, bound)
    if not allow_stale:
        check_fresh(workspace, diagnostic, bound)
    try:
        check_k(workspace, diagnostic, bound)
    except ComplementError as exc:
        if params.get("k") is not None:  # a k the caller chose; the default is the diagnostic's own, used as it is
            raise
        from ..progress import message

        message(f"note: {exc} (the default k is used as it is: that view's figures read its whole, shorter lists)")
    return _run_once(workspace, diagnostic, bound)
