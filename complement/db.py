"""DuckDB over a workspace: every existing logical table registered as a view of its name, and a
read-only guard for SQL that comes from the user."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from . import catalog, tables
from .errors import ComplementError, ReadOnlyError

if TYPE_CHECKING:
    from .workspace import Workspace

# Statement types a user's ad-hoc SQL may contain. SELECT covers WITH, DESCRIBE, SHOW and SUMMARIZE.
READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


# DuckDB settings taken from the environment (unset: DuckDB's defaults, all cores and 80% of RAM),
# for a machine shared with other work or a table larger than memory: DuckDB spills to the temp
# directory past memory_limit.
SETTINGS_ENV = {
    "memory_limit": "COMPLEMENT_DUCKDB_MEMORY_LIMIT",  # e.g. 6GB
    "threads": "COMPLEMENT_DUCKDB_THREADS",  # e.g. 2
    "temp_directory": "COMPLEMENT_DUCKDB_TEMP_DIRECTORY",  # e.g. /scratch/duckdb
}


def apply_settings(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the ``COMPLEMENT_DUCKDB_*`` settings that are set; a bad value is one clear line."""
    for setting, variable in SETTINGS_ENV.items():
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        try:
            con.execute(f"SET {setting} = {_quote(value) if setting != 'threads' else int(value)}")
        except (duckdb.Error, ValueError) as exc:
            raise ComplementError(f"{variable}={value!r} is not a valid DuckDB {setting}: {_first_line(exc)}") from None


def read_parquet_sql(files: list[Path]) -> str:
    """DuckDB's reader of ``files`` as one table (columns matched by name)."""
    listed = ", ".join(_quote(str(f)) for f in files)
    return f"read_parquet([{listed}], union_by_name = true)"


def empty_select(name: str) -> str:
    """A DuckDB SELECT of no rows with the columns and types of workspace table ``name``: what a
    diagnostic reads for an optional table (``-- requires: runs?``) that the workspace lacks."""
    with duckdb.connect(":memory:") as con:
        types = con.from_arrow(tables.SCHEMAS[name].empty_table()).types
    columns = ", ".join(f"CAST(NULL AS {t}) AS {f.name}" for f, t in zip(tables.SCHEMAS[name], types, strict=True))
    return f"SELECT {columns} WHERE false"


def check_files_there(workspace: Workspace, files: dict[str, list[Path]]) -> None:
    """Every file the catalog lists is on disk, else a :class:`DataError` that names it and the way out (a
    file removed by hand would otherwise fail every query of the workspace with DuckDB's own message)."""
    from .errors import DataError

    for name, paths in files.items():
        for path in paths:
            if not Path(path).is_file():
                relative = Path(path).relative_to(workspace.tables_dir)
                view = relative.parts[1] if len(relative.parts) > 2 else None
                way_out = (
                    f"restore it, or remove view '{view}' with `complement drop {view} -w {workspace.root}` and make "
                    "it again"
                    if view
                    else "restore it (from a copy of the workspace), or make the workspace again in a new folder"
                )
                raise DataError(
                    f"table '{name}' of workspace {workspace.root} lists {relative} (tables/_catalog.json), but the "
                    f"file is not there: {way_out}"
                )


def table_selects(workspace: Workspace, names: Iterable[str] | None = None) -> dict[str, str]:
    """A DuckDB SELECT reading each existing table (of ``names``, else all): its files, with the
    integer keys a legacy table lacks filled in (:mod:`complement.keys`)."""
    from . import keys

    files = {name: workspace.table_files(name) for name in tables.TABLE_NAMES}
    files = {name: paths for name, paths in files.items() if paths}
    check_files_there(workspace, files)
    raw = {name: read_parquet_sql(paths) for name, paths in files.items()}
    plan = keys.incomplete_keys({n: p for n, p in files.items() if names is None or n in names})
    columns = {name: keys.columns_of(files[name]) for name in files} if plan else {}
    return {
        name: keys.keyed_select(name, raw, columns, plan[name]) if name in plan else f"SELECT * FROM {raw[name]}"
        for name in files
        if names is None or name in names
    }


def connect(workspace: Workspace, read_only_sql: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that sees the workspace tables as views.

    With ``read_only_sql`` the connection may read files only under the workspace's tables folder
    and its configuration is locked, a second guard behind :func:`check_read_only`."""
    con = duckdb.connect(":memory:")
    # its views name the files of the catalog read now: keep them on disk while the connection lives
    catalog.reader_for(con, workspace.tables_dir)
    con.execute("SET enable_progress_bar = false")  # DuckDB's bar would mix with data on stdout
    # a diagnostic run one user bucket at a time reads the same files' footers once per bucket
    # (diagnostics/buckets.py); table files are never rewritten in place, so the cache cannot go stale
    con.execute("SET parquet_metadata_cache = true")
    apply_settings(con)
    for name, select in table_selects(workspace).items():
        con.execute(f"CREATE VIEW {name} AS {select}")
    if read_only_sql:
        # the tables, and the diagnostics results `complement run` stores (read_parquet('results/…'))
        allowed = [str(workspace.tables_dir) + "/", str(workspace.root / "results") + "/"]
        con.execute(f"SET allowed_directories = [{', '.join(_quote(a) for a in allowed)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALYZE\s+|\([^)]*\)\s*)?", re.I)


def _explained(query: str) -> str | None:
    """The statement an EXPLAIN statement explains (EXPLAIN ANALYZE runs it), or None if unreadable."""
    match = _EXPLAIN.match(_COMMENTS.sub(" ", query))
    return _COMMENTS.sub(" ", query)[match.end() :] if match else None


def _kind(statement: duckdb.Statement) -> str:
    kind = statement.type.name
    if kind == "EXPLAIN":
        inner = _explained(statement.query)
        try:
            explained = duckdb.extract_statements(inner) if inner else []
        except duckdb.Error:
            explained = []
        if len(explained) != 1:
            return "EXPLAIN"
        inner_kind = _kind(explained[0])
        return "EXPLAIN" if inner_kind == "SELECT" else f"EXPLAIN {inner_kind}"
    return kind


def check_read_only(sql: str) -> list[str]:
    """Split ``sql`` into statements and refuse any that would change or write anything.

    This is the first guard, for a clear message; user SQL also runs in :mod:`complement.sandbox`,
    where writing is impossible whatever the statement."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ComplementError(f"SQL does not parse: {_first_line(exc)}") from None
    if not statements:
        raise ComplementError("no SQL statement given")
    for statement in statements:
        kind = _kind(statement)
        if kind not in READ_ONLY_STATEMENTS:
            shown = " ".join(statement.query.split())[:60]
            article = "an" if kind[0] in "AEIOU" else "a"
            raise ReadOnlyError(
                f"refused: '{shown}' is {article} {kind} statement; `complement sql` is read-only "
                "(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of those)"
            )
    return [s.query for s in statements]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def run_sql(
    workspace: Workspace, sql: str, params: dict[str, Any] | None = None, timeout: float | None = None
) -> pa.Table:
    """Run the user's read-only SQL over the workspace in the sandbox and return the last statement's
    result (see :func:`stream_sql` for a result too large to hold)."""
    with stream_sql(workspace, sql, params, timeout) as (schema, batches):
        return pa.Table.from_batches(list(batches), schema=schema)


@contextlib.contextmanager
def stream_sql(
    workspace: Workspace,
    sql: str,
    params: dict[str, Any] | None = None,
    timeout: float | None = None,
    rows_per_batch: int = 65536,
) -> Iterator[tuple[pa.Schema, Iterator[pa.RecordBatch]]]:
    """``(schema, batches)`` of the user's read-only SQL, run in :mod:`complement.sandbox`; the last
    statement's result arrives as record batches while it is computed, so it is never held whole.

    ``timeout`` seconds after the start the query is interrupted (one-line error)."""
    from .sandbox import Query, check_timeout, open_sandbox

    check_timeout(timeout)
    statements = check_read_only(sql)
    workspace.check_exists()  # a missing folder, a file, or a folder that is no workspace: named as every step does

    def describe(exc: BaseException) -> str:
        hint = ""
        if isinstance(exc, duckdb.CatalogException):
            have = workspace.existing_tables()
            listed = ", ".join(have) or "none — run `complement init` or `complement synth`"
            hint = f" (tables in {workspace.root}: {listed})"
        return f"SQL error: {_first_line(exc)}{hint}"

    con = open_sandbox(workspace)
    try:
        with Query(con, timeout, describe) as query:
            # Earlier statements are read-only, so running them could change nothing: they are
            # bound (errors surface) but only the last one's result is computed.
            for statement in statements[:-1]:
                query.bind(statement, params)
            yield query.batches(statements[-1], params, rows_per_batch)
    finally:
        con.close()
