"""A diagnostic that runs as is in the DuckDB command line or ``duckdb.sql()``: the macros rendered
as CTEs (:mod:`.render`), each table a CTE reading the workspace's Parquet files
(``ws.table_files``), each parameter a typed literal (strings quoted, so a value cannot change the
statement). ``complement diagnose show NAME --standalone`` prints it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import keys
from ..errors import ComplementError
from ..workspace import Workspace
from .headers import find
from .render import render
from .runner import bind, check_views
from .sqltext import IDENTIFIER, code_positions, header_and_body, join_ctes, split_with


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_literal(value: Any, type_name: str) -> str:
    """``value`` as a DuckDB literal of ``type_name`` (strings quoted, doubled quotes escaped)."""
    type_name = type_name.upper()
    if value is None:
        return f"CAST(NULL AS {type_name})"
    if type_name.endswith("[]"):
        inner = type_name[:-2]
        return f"CAST([{', '.join(duckdb_literal(v, inner) for v in value)}] AS {type_name})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value) if math.isfinite(value) else _quote(str(value))
        return f"CAST({text} AS {type_name})"
    if isinstance(value, int):
        return f"CAST({value} AS {type_name})"
    return (
        _quote(str(value))
        if type_name in ("VARCHAR", "TEXT", "STRING")
        else f"CAST({_quote(str(value))} AS {type_name})"
    )


def inline_params(sql: str, values: Mapping[str, Any], types: Mapping[str, str]) -> str:
    """Replace each ``$name`` (outside comments and strings) whose value is given by its literal."""
    out, last = [], 0
    for pos in code_positions(sql):
        if pos < last or sql[pos] != "$":  # `pos < last`: inside the name just replaced
            continue
        ident = IDENTIFIER.match(sql, pos + 1)
        if ident and ident.group(0) in values:
            out += [sql[last:pos], duckdb_literal(values[ident.group(0)], types[ident.group(0)])]
            last = ident.end()
    return "".join(out) + sql[last:]


def table_ctes(sql: str, files: Mapping[str, list[Path]]) -> str:
    """``sql`` with a leading CTE per table in ``files`` reading its Parquet files (no rows, with
    the table's columns, for a table without files: an optional one the workspace lacks)."""
    header, statement = header_and_body(sql)
    from ..db import empty_select, read_parquet_sql

    present = {name: paths for name, paths in files.items() if paths}
    plan = keys.incomplete_keys(present)
    raw = {name: read_parquet_sql(list(paths)) for name, paths in present.items()}
    columns = {name: keys.columns_of(paths) for name, paths in present.items()} if plan else {}
    ctes = []
    for name in files:
        if name not in present:
            select = empty_select(name)
        elif name in plan:
            select = keys.keyed_select(name, raw, columns, plan[name])
        else:
            select = f"SELECT * FROM {raw[name]}"
        ctes.append((name, f"({select})", ""))
    own, final = split_with(statement)
    return join_ctes(header, ctes + own, final)


def standalone_sql(workspace: Any, name: str, **params: Any) -> str:
    """The diagnostic ``name`` as one DuckDB statement over ``workspace``'s Parquet files: macros as
    CTEs, each table a CTE reading its files (``ws.table_files``), parameters typed literals. Runs
    as is in the DuckDB command line or ``duckdb.sql()``."""
    if not isinstance(workspace, Workspace):
        workspace = Workspace(workspace)
    diagnostic = find(name)
    ks = params.get("k")
    if isinstance(ks, (list, tuple)):
        raise ComplementError("--standalone prints one statement: give one K (-p k 20), not a list")
    values = bind(diagnostic, params)
    workspace.require(*diagnostic.requires)
    check_views(workspace, diagnostic, values)
    types = {p.name: p.type for p in diagnostic.params}
    text = inline_params(render(diagnostic.sql), values, types)
    return table_ctes(text, {t: workspace.table_files(t) for t in diagnostic.reads})
