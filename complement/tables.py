"""The logical tables of docs/design.md: their Arrow schemas and which are stored one part per view.

``embeddings``, ``topk`` and ``neighbors`` have one part per view and ``probes`` one per probe run, so a
command rewrites only its own part; where the files live is the catalog's business (``catalog.py``).
DuckDB sees each table as one view over its current files.
"""

from __future__ import annotations

import re

import pyarrow as pa

from .errors import ComplementError, WorkspaceError

VECTOR = pa.list_(pa.float32())

#: the column types of the contract, by the names the schemas below are written with
TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "float32[]": VECTOR,
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def schema_of(columns: str) -> pa.Schema:
    """An Arrow schema from ``"name type, name type, ..."`` with the types of :data:`TYPES`."""
    pairs = [column.split() for column in columns.split(",")]
    if any(len(pair) != 2 or pair[1] not in TYPES for pair in pairs):
        raise ValueError(f"a schema is 'name type, ...' with types {', '.join(TYPES)}: {columns!r}")
    return pa.schema([(name, TYPES[kind]) for name, kind in pairs])


# params, metrics and versions of `runs` hold JSON text
SCHEMAS: dict[str, pa.Schema] = {
    name: schema_of(columns)
    for name, columns in {
        "items": "item_id string, item_idx int32, title string, text string, n_train int32, pop_group string",
        "users": "user_id string, user_idx int32, n_train int32",
        "interactions": "user_id string, item_id string, ts int64, rating float64, split string, "
        "user_idx int32, item_idx int32",
        "embeddings": "view string, entity string, id string, vector float32[]",
        "topk": "view string, user_id string, rank int32, item_id string, score float64, "
        "user_idx int32, item_idx int32",
        "neighbors": "view string, item_id string, rank int32, neighbor_id string, sim float64, "
        "item_idx int32, neighbor_idx int32",
        "probes": "run_id string, source string, target string, mapper string, shift string, item_set string, "
        "metric string, value float64, seed int32",
        "runs": "run_id string, step string, view string, config_hash string, seed int64, started_at timestamp, "
        "finished_at timestamp, seconds float64, rows int64, params string, metrics string, versions string",
    }.items()
}

# Integer keys beside the string ids (joins on them are cheaper; the ids stay for people): column,
# its id column, and the table whose ``*_idx`` numbers it.
INDEX_KEYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "interactions": (("user_idx", "user_id", "users"), ("item_idx", "item_id", "items")),
    "topk": (("user_idx", "user_id", "users"), ("item_idx", "item_id", "items")),
    "neighbors": (("item_idx", "item_id", "items"), ("neighbor_idx", "neighbor_id", "items")),
}

# A view of ``topk`` with more rows than this is stored as several files ("user buckets"), each a
# contiguous user_idx range sorted by (user_idx, rank), with row groups of ROW_GROUP_ROWS rows: every
# file stays small enough to write and read in bounded memory, and a reader filtering on user_idx
# skips whole files and row groups by their statistics. Readers see one table (the catalog entry
# lists the files). Module attributes, so tests can lower them.
BUCKET_ROWS = 2_000_000
ROW_GROUP_ROWS = 500_000
BUCKETED_TABLES = ("topk",)


def user_buckets(name: str, table: pa.Table) -> list[pa.Table]:
    """``table`` as the files it is stored in: itself, or for a large view of a bucketed table its
    rows sorted by (user_idx, rank) and cut between users into pieces of at most about BUCKET_ROWS rows
    (one user's list is never split, so a piece may exceed it by less than one list)."""
    if name not in BUCKETED_TABLES or table.num_rows <= BUCKET_ROWS or table.column("user_idx").null_count:
        return [table]
    import numpy as np

    table = table.sort_by([("user_idx", "ascending"), ("rank", "ascending")])
    users = table.column("user_idx").to_numpy()
    # the first row of each user: a piece may start only there
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    pieces, begin = [], 0
    while begin < table.num_rows:
        limit = begin + BUCKET_ROWS
        if limit >= table.num_rows:
            end = table.num_rows
        else:
            after = int(np.searchsorted(starts, limit, side="right"))  # starts[:after] <= limit
            if starts[after - 1] > begin:
                end = int(starts[after - 1])
            else:  # one list longer than a piece: it is a piece of its own
                end = int(starts[after]) if after < len(starts) else table.num_rows
        pieces.append(table.slice(begin, end - begin))
        begin = end
    return pieces


SINGLE_TABLES = ("items", "users", "interactions", "runs")
PARTITIONED_TABLES = ("embeddings", "topk", "neighbors", "probes")
TABLE_NAMES = SINGLE_TABLES + PARTITIONED_TABLES

#: at most 100 characters: a view's name, with a seed suffix, goes into file names (locks, temporary files)
VIEW_NAME = re.compile(r"^[a-z0-9_-]{1,100}$")


def check_view_name(name: str) -> str:
    """A view name is 1 to 100 of ``[a-z0-9_-]`` (docs/design.md)."""
    if not VIEW_NAME.match(name or ""):
        raise ComplementError(f"invalid view name '{name}': use 1 to 100 lower-case letters, digits, '_' and '-'")
    return name


#: the views a synthetic workspace's ingestion writes, its planted ground truth (``truth_semantic``,
#: ``truth_collab``: complement/data/synth.py), are named with this prefix; no step writes a view of its
#: own under it, so the truth stays what the generator planted
RESERVED_PREFIX = "truth_"


def reserved(name: str) -> str | None:
    """Why a step may not create or replace view ``name`` (None when it may)."""
    if name.startswith(RESERVED_PREFIX):
        return (
            f"names starting with '{RESERVED_PREFIX}' are reserved for a synthetic workspace's planted truth views "
            "(written by `complement synth` and `complement ingest`); choose another name"
        )
    return None


def check_new_view_name(name: str) -> str:
    """The name of a view a step creates or replaces (embed, train, fuse, an import): a valid view name
    (:func:`check_view_name`) outside the reserved ``truth_`` prefix. Steps that only derive a view's
    lists or neighbours from its own vectors (``topk``, ``neighbors``) take any existing view."""
    check_view_name(name)
    if (why := reserved(name)) is not None:
        raise ComplementError(f"view '{name}' cannot be written: {why}")
    return name


def conform(name: str, table: pa.Table) -> pa.Table:
    """Cast ``table`` to the contract schema of ``name``; extra columns are kept after the contract ones."""
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ComplementError(f"table '{name}' lacks columns {missing} (found: {', '.join(table.column_names)})")
    columns = [table.column(f.name).cast(f.type) for f in schema]
    fields = list(schema)
    for extra in table.column_names:
        if extra not in schema.names:
            columns.append(table.column(extra))
            fields.append(table.schema.field(extra))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


# ---- read-side checks ----------------------------------------------------------------------------
#: the command that rebuilds each table, named when a stored table breaks its contract
REBUILT_BY = {
    "items": "`complement ingest` (or `complement synth` for synthetic data)",
    "users": "`complement ingest` (or `complement synth` for synthetic data)",
    "interactions": "`complement ingest` (or `complement synth` for synthetic data)",
    "embeddings": "`complement embed` or `complement train` for that view",
    "topk": "`complement topk --view VIEW`",
    "neighbors": "`complement neighbors --view VIEW`",
    "probes": "`complement probe`",
    "runs": "any step (it appends a row)",
}
#: (table, key column): the ids a table must hold once each
UNIQUE_KEYS = (("items", "item_id"), ("items", "item_idx"), ("users", "user_id"), ("users", "user_idx"))


def _family(kind: pa.DataType) -> str:
    for family, test in (
        ("integer", pa.types.is_integer),
        ("floating", pa.types.is_floating),
        ("string", pa.types.is_string),
        ("string", pa.types.is_large_string),
        ("list", pa.types.is_list),
        ("list", pa.types.is_large_list),
        ("timestamp", pa.types.is_timestamp),
    ):
        if test(kind):
            return family
    return str(kind)


def check_columns(name: str, schema: pa.Schema, source: str = "") -> None:
    """Raise one line when ``schema`` (a stored file of table ``name``) lacks a contract column or
    holds one of another kind; the line names the table, the column and the command that rebuilds it."""
    where = f" ({source})" if source else ""
    # the integer keys of a file written before they existed are filled in by its readers (keys.py)
    derived = {key for key, _, _ in INDEX_KEYS.get(name, ())}
    for field in SCHEMAS[name]:
        if field.name not in schema.names and field.name in derived:
            continue
        if field.name not in schema.names:
            raise WorkspaceError(
                f"table '{name}'{where} has no column '{field.name}' (found: {', '.join(schema.names)}); "
                f"rebuild it with {REBUILT_BY[name]}"
            )
        found = schema.field(field.name).type
        if _family(found) != _family(field.type):
            raise WorkspaceError(
                f"table '{name}'{where} column '{field.name}' is {found}, expected {field.type}; "
                f"rebuild it with {REBUILT_BY[name]}"
            )


def check_tables(
    ws, *names: str, views: tuple[str, ...] | list[str] | None = None, replaced: str | None = None
) -> None:
    """Check the stored files of each listed table (that exists) against the contract, and that
    ``items`` and ``users`` hold each id once, before a step reads them. ``views`` limits the check
    of a partitioned table to the parts the step reads. The sizes of view ``replaced``'s files are not
    checked: the step writes that view anew (what it keeps of the old files, :func:`written_over` checks)."""
    import pyarrow.parquet as pq

    recorded, changed = _recorded_files(ws), []
    for name in names:
        if name in PARTITIONED_TABLES:
            # an invalid name is the step's own error to report; never build a path from it here
            parts = [v for v in views if VIEW_NAME.match(v or "")] if views is not None else ws.parts(name)
            files = [(view, path) for view in parts for path in ws.table_files(name, view)]
        else:
            files = [(None, path) for path in ws.table_files(name)]
        for view, path in files:
            if view is None or view != replaced:
                changed += _size_changed(ws, name, view, path, recorded)
            try:
                schema = pq.read_schema(path)
            except (pa.ArrowInvalid, OSError) as exc:
                where = "" if view is None else f" (view '{view}')"
                raise WorkspaceError(
                    f"table '{name}'{where} file {path.name} is not readable Parquet ({str(exc).splitlines()[0]}); "
                    f"rebuild it with {REBUILT_BY[name]}"
                ) from None
            check_columns(name, schema, "" if view is None else f"view '{view}'")
    for name, key in UNIQUE_KEYS:
        if name in names and ws.table_files(name):
            _check_unique(name, key, ws.table_files(name))
    if changed:  # after the contract checks, which say more about a file edited by hand
        raise WorkspaceError(changed[0])


def _recorded_files(ws) -> dict[str, tuple[int, str]]:
    """{file path: (its size when committed, the command that remakes its entry)} of the catalog's files that
    have a recorded size (entries written before sizes were recorded have none)."""
    out = {}
    for entry in ws.catalog().entries.values():
        for relative, size in entry.sizes.items():
            out[str(ws.tables_dir / relative)] = (size, entry.made_by)
    return out


def written_over(ws, name: str, part: str) -> list[str]:
    """The size messages of part ``part`` of table ``name`` (none when its files are as committed)."""
    recorded = _recorded_files(ws)
    return [m for path in ws.table_files(name, part) for m in _size_changed(ws, name, part, path, recorded)]


def _size_changed(ws, name: str, view: str | None, path, recorded: dict[str, tuple[int, str]]) -> list[str]:
    """A table file whose size differs from the one recorded when it was committed was written over outside
    complement (another file copied onto it, say): its rows are not what the catalog's fingerprint and
    lineage describe, so no step may read it as if they were. The message, or none."""
    import shlex

    size, made_by = recorded.get(str(path), (None, ""))
    try:
        found = path.stat().st_size
    except OSError:
        return []  # a missing file: reading its schema names it
    if size is None or found == size:
        return []
    where = "" if view is None else f" ({'probe run' if name == 'probes' else 'view'} '{view}')"
    shown = path.relative_to(ws.tables_dir).as_posix() if path.is_relative_to(ws.tables_dir) else path.name
    w = f"-w {shlex.quote(str(ws.root))}"
    if name == "runs":
        remedy = "the runs table is a record that no command remakes: restore the file from a copy of the workspace"
    elif view is not None and name in ("embeddings", "topk", "neighbors") and made_by:
        remedy = f"rebuild it with `{made_by} {w}`"
    else:  # the commands recorded for the dataset's tables and probe runs are not runnable as they stand
        remedy = f"rebuild it with {REBUILT_BY[name]}"
    return [
        f"table '{name}'{where} file {shown} is {found:,} bytes, but was {size:,} bytes when complement wrote it: "
        f"it was changed outside complement, and its rows are not the ones its lineage describes; {remedy}"
    ]


def _check_unique(name: str, key: str, files) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            f'SELECT CAST("{key}" AS VARCHAR) AS k, count(*) AS n FROM read_parquet($files) GROUP BY 1 HAVING n > 1 '
            "ORDER BY n DESC, k",
            {"files": [str(p) for p in files]},
        ).fetchall()
    finally:
        con.close()
    if rows:
        examples = ", ".join(f"'{k}' x{n}" for k, n in rows[:3])
        raise WorkspaceError(
            f"table '{name}' holds {len(rows):,} {key} values more than once ({sum(n for _, n in rows):,} rows; "
            f"e.g. {examples}): duplicates would be counted twice; rebuild it with {REBUILT_BY[name]}"
        )
