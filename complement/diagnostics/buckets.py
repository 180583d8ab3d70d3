"""Running a diagnostic's per-user stage one user bucket at a time.

A diagnostic may name one CTE of its WITH list as its per-user stage (``-- stage: NAME``): a CTE
whose rows, computed over the rows of any subset of users, are exactly its rows for those users.
Over a large workspace the runner then computes that CTE for users ``[lo, hi)`` of ``user_idx`` at a
time, with the user-keyed tables narrowed to the bucket, collects its rows in a temporary table, and
runs the rest of the statement once over them. Each bucket's hash joins and aggregates hold one
bucket's users, so the cost per row stays that of a small workspace (docs/benchmarks.md "Scale");
the result is the same as the statement run whole (tests/test_diagnose_buckets.py).

The bucket size is ``COMPLEMENT_DUCKDB_USER_BUCKET`` users (default :data:`DEFAULT_BUCKET_USERS`;
0 turns it off). The files are sorted by ``user_idx`` (docs/design.md), so the narrowed scans skip
the other buckets' row groups by their statistics; a table read straight from its files (no keys
filled at read time) is narrowed to the files whose ``user_idx`` range meets the bucket, so a bucket
does not look at every file of a view split into a hundred."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..db import read_parquet_sql
from ..errors import ComplementError
from .headers import used_bindings
from .sqltext import header_and_body, join_ctes, split_with

#: users per bucket when ``COMPLEMENT_DUCKDB_USER_BUCKET`` is unset
DEFAULT_BUCKET_USERS = 500_000
BUCKET_ENV = "COMPLEMENT_DUCKDB_USER_BUCKET"
#: the tables whose rows belong to one user each; a bucket narrows them to its users
USER_KEYED_TABLES = ("interactions", "topk", "users")
STAGE_TABLE = "complement_stage_rows"


def bucket_users() -> int:
    """Users per bucket from the environment (0: never split)."""
    value = os.environ.get(BUCKET_ENV, "").strip()
    if not value:
        return DEFAULT_BUCKET_USERS
    try:
        users = int(value)
    except ValueError:
        users = -1
    if users < 0:
        raise ComplementError(f"{BUCKET_ENV}={value!r} is not a number of users (a whole number >= 0; 0 turns it off)")
    return users


@dataclass(frozen=True)
class StagedSQL:
    """A statement split at its per-user stage: ``stage`` selects the stage CTE's rows; ``rest`` is
    the whole statement with that CTE reading :data:`STAGE_TABLE` instead."""

    stage: str
    rest: str


def split_at_stage(sql: str, stage: str) -> StagedSQL:
    """Split a diagnostic's statement at the CTE named ``stage``."""
    _, body = header_and_body(sql)
    ctes, final = split_with(body)
    names = [name for name, _, _ in ctes]
    if stage not in names:
        raise ComplementError(f"'-- stage: {stage}' names no CTE of the statement's WITH list ({', '.join(names)})")
    at = names.index(stage)
    stage_sql = join_ctes("", ctes[: at + 1], f"SELECT * FROM {stage}")
    rest_ctes = [*ctes[:at], (stage, f"(SELECT * FROM {STAGE_TABLE})", ""), *ctes[at + 1 :]]
    return StagedSQL(stage=stage_sql, rest=join_ctes("", rest_ctes, final))


def user_range(con: duckdb.DuckDBPyConnection) -> int:
    """One past the largest ``user_idx`` of the user-keyed tables' main table (interactions)."""
    row = con.sql("SELECT max(user_idx) FROM interactions").fetchall()[0]
    return 0 if row[0] is None else int(row[0]) + 1


def bucket_bounds(n_users: int, size: int) -> Iterator[tuple[int | None, int | None]]:
    """``[lo, hi)`` per bucket; the first is open below and the last open above, so together they
    cover every key whatever the range."""
    starts = list(range(0, n_users, size)) or [0]
    for i, lo in enumerate(starts):
        yield (None if i == 0 else lo), (None if i == len(starts) - 1 else lo + size)


#: a table file and the least and greatest ``user_idx`` in it
FileRange = tuple[Path, int, int]


def file_ranges(files: Sequence[Path]) -> list[FileRange] | None:
    """Each file's ``user_idx`` range from its row groups' statistics (an empty file is left out);
    None when a file lacks the column or its statistics."""
    import pyarrow.parquet as pq

    ranges = []
    for path in files:
        meta = pq.ParquetFile(path).metadata
        if "user_idx" not in meta.schema.names:
            return None
        column = meta.schema.names.index("user_idx")
        bounds = []
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(column).statistics
            if meta.row_group(g).num_rows == 0:
                continue
            if stats is None or not stats.has_min_max:
                return None
            bounds += [int(stats.min), int(stats.max)]
        if bounds:
            ranges.append((Path(path), min(bounds), max(bounds)))
    return ranges


def _narrowed(table: str, lo: int | None, hi: int | None, ranges: list[FileRange] | None = None) -> str:
    """The table's rows of users ``[lo, hi)``; with ``ranges`` (the table's files, when it is read
    straight from them) only the files that can hold such rows are read."""
    source = table
    if ranges is not None:
        meeting = [
            path for path, least, greatest in ranges if (lo is None or greatest >= lo) and (hi is None or least < hi)
        ]
        source = f"{read_parquet_sql(meeting)}" if meeting else f"(SELECT * FROM {table} WHERE false)"
    conditions = [c for c in (lo is not None and f"user_idx >= {lo}", hi is not None and f"user_idx < {hi}") if c]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT * FROM {source}{where}"


def _params(sql: str, bound: dict[str, Any]) -> dict[str, Any]:
    used = used_bindings(sql)
    return {name: value for name, value in bound.items() if name in used}


def run_in_buckets(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    stage: str,
    bound: dict[str, Any],
    size: int,
    on_bucket: Callable[[int, int], None] | None = None,
    sources: Callable[[], Mapping[str, list[FileRange]]] | None = None,
) -> pa.Table | None:
    """Run ``sql`` with its ``stage`` CTE computed bucket by bucket; None when one bucket would
    hold every user (the caller runs the statement whole).

    A bucket narrows each user-keyed table by a temporary view of the same name, which the
    statement and the macros it calls see in place of the table (DuckDB looks in ``temp`` first).
    ``sources()``, called once when the statement is split, gives the file ranges of the tables
    that are read straight from their files (:func:`plain_sources`)."""
    if size <= 0:
        return None
    n_users = user_range(con)
    if n_users <= size:
        return None
    staged = split_at_stage(sql, stage)
    database = con.sql("SELECT current_database()").fetchall()[0][0]
    present = {row[0] for row in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT temporary").fetchall()}
    narrowed = [name for name in USER_KEYED_TABLES if name in present]
    bounds = list(bucket_bounds(n_users, size))
    ranges = dict(sources()) if sources is not None else {}
    stage_params = _params(staged.stage, bound)
    try:
        for i, (lo, hi) in enumerate(bounds):
            for name in narrowed:
                table = f'"{database}".main.{name}'
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {_narrowed(table, lo, hi, ranges.get(name))}")
            verb = f"CREATE TEMP TABLE {STAGE_TABLE} AS" if i == 0 else f"INSERT INTO {STAGE_TABLE}"
            con.execute(f"{verb} {staged.stage}", stage_params or None)
            if on_bucket is not None:
                on_bucket(i + 1, len(bounds))
    finally:
        for name in narrowed:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
    rest_params = _params(staged.rest, bound)
    try:
        relation = con.sql(staged.rest, params=rest_params) if rest_params else con.sql(staged.rest)
        return relation.to_arrow_table()
    finally:
        con.execute(f"DROP TABLE IF EXISTS temp.main.{STAGE_TABLE}")


def plain_sources(workspace: Any) -> dict[str, list[FileRange]]:
    """The file ranges of each user-keyed table that the connection reads straight from its files
    (:func:`complement.db.table_selects` gives it as a plain ``read_parquet``; a legacy table whose
    keys are filled at read time is left out and narrowed by its view)."""
    from ..db import table_selects

    selects = table_selects(workspace, USER_KEYED_TABLES)
    found = {}
    for name, select in selects.items():
        files = workspace.table_files(name)
        if select != f"SELECT * FROM {read_parquet_sql(files)}":
            continue
        ranges = file_ranges(files)
        if ranges is not None:
            found[name] = ranges
    return found
