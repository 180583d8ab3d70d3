"""DuckDB over a workspace: every existing logical table registered as a view of its name, and a
read-only guard for SQL that comes from the user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from . import tables
from .errors import ComplementError, ReadOnlyError

if TYPE_CHECKING:
    from .workspace import Workspace

# Statement types a user's ad-hoc SQL may contain. SELECT covers WITH, DESCRIBE, SHOW and SUMMARIZE.
READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN"}


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def connect(workspace: "Workspace", read_only_sql: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that sees the workspace tables as views.

    With ``read_only_sql`` the connection may read files only under the workspace's tables folder
    and its configuration is locked, a second guard behind :func:`check_read_only`."""
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")  # DuckDB's bar would mix with data on stdout
    for name in tables.TABLE_NAMES:
        files = workspace.table_files(name)
        if not files:
            continue
        listed = ", ".join(_quote(str(f)) for f in files)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)")
    if read_only_sql:
        # the tables, and the diagnostics results `complement run` stores (read_parquet('results/…'))
        allowed = [str(workspace.tables_dir) + "/", str(workspace.root / "results") + "/"]
        con.execute(f"SET allowed_directories = [{', '.join(_quote(a) for a in allowed)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def check_read_only(sql: str) -> list[str]:
    """Split ``sql`` into statements and refuse any that would change or write anything."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ComplementError(f"SQL does not parse: {_first_line(exc)}") from None
    if not statements:
        raise ComplementError("no SQL statement given")
    for statement in statements:
        kind = statement.type.name
        if kind not in READ_ONLY_STATEMENTS:
            shown = " ".join(statement.query.split())[:60]
            article = "an" if kind[0] in "AEIOU" else "a"
            raise ReadOnlyError(
                f"refused: '{shown}' is {article} {kind} statement; `complement sql` is read-only "
                "(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
            )
    return [s.query for s in statements]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def run_sql(workspace: "Workspace", sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run the user's read-only SQL over the workspace and return the last statement's result."""
    statements = check_read_only(sql)
    if not workspace.root.is_dir():
        raise ComplementError(f"workspace {workspace.root} is not a folder: pass -w DIR or set COMPLEMENT_WORKSPACE")
    con = connect(workspace, read_only_sql=True)
    try:
        result = None
        for statement in statements:
            result = con.sql(statement, params=params).to_arrow_table() if params else con.sql(statement).to_arrow_table()
        return result
    except duckdb.Error as exc:
        hint = ""
        if isinstance(exc, duckdb.CatalogException):
            hint = f" (tables in {workspace.root}: {', '.join(workspace.existing_tables()) or 'none — run `complement init` or `complement synth`'})"
        raise ComplementError(f"SQL error: {_first_line(exc)}{hint}") from None
    finally:
        con.close()
