"""Running a diagnostic: parameter checking and binding, table and view checks, and DuckDB.

Parameters are bound as DuckDB ``$name`` values, never formatted into the SQL. Each value is cast
to its declared type by DuckDB first, so a wrong value gets one clear line before anything runs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from ..db import check_read_only, connect
from ..errors import ComplementError, WorkspaceError, did_you_mean
from ..workspace import Workspace
from .headers import MACROS_PATH, Diagnostic, Param, find

# Parameters whose values are view names, and the tables whose parts are those views.
VIEW_PARAMS = ("view", "view_a", "view_b", "views")
VIEW_TABLES = ("topk", "neighbors", "embeddings")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cast(con: duckdb.DuckDBPyConnection, value: Any, type_name: str) -> Any:
    return con.sql(f"SELECT CAST($value AS {type_name}) AS v", params={"value": value}).fetchall()[0][0]


def coerce(diagnostic: Diagnostic, param: Param, value: Any) -> Any:
    """``value`` (a Python value, or a string from the command line) as the parameter's type."""
    con = duckdb.connect(":memory:")
    try:
        if isinstance(value, str) and param.type.endswith("[]"):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (tuple, set, frozenset)):
            value = list(value)
        value = _cast(con, value, param.type)
    except duckdb.Error:
        raise ComplementError(
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
            f"{diagnostic.path}: ${undeclared[0]} is used but not declared; add '-- param: {undeclared[0]} TYPE' to the header"
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
                    f"view '{view}' is not in the '{table}' table{did_you_mean(view, have)} (views: {', '.join(have) or 'none'})"
                )


def check_fresh(workspace: Workspace, diagnostic: Diagnostic, values: dict[str, Any]) -> None:
    """Refuse views whose lists or vectors were made from inputs that have changed since (a new split,
    another dataset, re-made vectors): scoring them against today's tables would be silently wrong."""
    named = [v for name in VIEW_PARAMS for v in ([values.get(name)] if isinstance(values.get(name), str) else values.get(name) or [])]
    for table in diagnostic.requires:
        if table in VIEW_TABLES:
            for view in named or workspace.parts(table):
                if view in workspace.parts(table):
                    workspace.check_fresh(table, view)


def _load_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the shared macros; one over a table this workspace lacks is skipped (the diagnostics
    that need it are refused earlier by their ``requires`` line)."""
    for statement in duckdb.extract_statements(MACROS_PATH.read_text(encoding="utf-8")):
        try:
            con.execute(statement.query)
        except duckdb.CatalogException:
            continue


def _run_once(workspace: Workspace, diagnostic: Diagnostic, bound: dict[str, Any]) -> pa.Table:
    statement = check_read_only(diagnostic.sql)[0]
    con = connect(workspace, read_only_sql=True)
    try:
        _load_macros(con)
        relation = con.sql(statement, params=bound) if bound else con.sql(statement)
        return relation.to_arrow_table()
    except duckdb.Error as exc:
        raise ComplementError(f"diagnostic '{diagnostic.name}' failed: {_first_line(exc)}") from None
    finally:
        con.close()


def diagnose(workspace: Workspace | str | os.PathLike, name: str, *, allow_stale: bool = False, **params: Any) -> pa.Table:
    """Run the diagnostic ``name`` (a built-in name or a path to a ``.sql`` file) and return its rows.

    ``params`` are its declared parameters (``k``, ``view_a``, ``view_b``, ``views`` ...). A list
    for ``k`` runs it once per K and prepends a ``k`` column. A view made from inputs that changed
    since is refused unless ``allow_stale``. Example::

        complement.diagnose("ws", "overlap", view_a="lightgcn", view_b="semantic", k=[10, 20])
    """
    if not isinstance(workspace, Workspace):
        workspace = Workspace(workspace)
    diagnostic = find(name)
    if len(check_read_only(diagnostic.sql)) != 1:
        raise ComplementError(f"{diagnostic.path}: a diagnostic file holds exactly one statement")
    ks = params.get("k")
    if isinstance(ks, Sequence) and not isinstance(ks, str):
        if diagnostic.param("k") is None:
            raise ComplementError(f"diagnostic '{diagnostic.name}' takes no parameter k")
        results = []
        for k in ks:
            table = diagnose(workspace, name, allow_stale=allow_stale, **{**params, "k": k})
            k_value = coerce(diagnostic, diagnostic.param("k"), k)
            results.append(table.add_column(0, "k", pa.array([k_value] * table.num_rows, pa.int32())))
        return pa.concat_tables(results) if results else pa.table({"k": pa.array([], pa.int32())})
    bound = bind(diagnostic, params)
    workspace.require(*diagnostic.requires)
    check_views(workspace, diagnostic, bound)
    if not allow_stale:
        check_fresh(workspace, diagnostic, bound)
    return _run_once(workspace, diagnostic, bound)
