"""The logical tables of docs/design.md: their Arrow schemas and which are stored one part per view.

``embeddings``, ``topk`` and ``neighbors`` have one part per view and ``probes`` one per probe run, so a
command rewrites only its own part; where the files live is the catalog's business (``catalog.py``).
DuckDB sees each table as one view over its current files.
"""

from __future__ import annotations

import re

import pyarrow as pa

from .errors import ComplementError

VECTOR = pa.list_(pa.float32())

SCHEMAS: dict[str, pa.Schema] = {
    "items": pa.schema(
        [
            ("item_id", pa.string()),
            ("item_idx", pa.int32()),
            ("title", pa.string()),
            ("text", pa.string()),
            ("n_train", pa.int32()),
            ("pop_group", pa.string()),
        ]
    ),
    "users": pa.schema([("user_id", pa.string()), ("user_idx", pa.int32()), ("n_train", pa.int32())]),
    "interactions": pa.schema(
        [
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("ts", pa.int64()),
            ("rating", pa.float64()),
            ("split", pa.string()),
            ("user_idx", pa.int32()),
            ("item_idx", pa.int32()),
        ]
    ),
    "embeddings": pa.schema([("view", pa.string()), ("entity", pa.string()), ("id", pa.string()), ("vector", VECTOR)]),
    "topk": pa.schema(
        [
            ("view", pa.string()),
            ("user_id", pa.string()),
            ("rank", pa.int32()),
            ("item_id", pa.string()),
            ("score", pa.float64()),
            ("user_idx", pa.int32()),
            ("item_idx", pa.int32()),
        ]
    ),
    "neighbors": pa.schema(
        [
            ("view", pa.string()),
            ("item_id", pa.string()),
            ("rank", pa.int32()),
            ("neighbor_id", pa.string()),
            ("sim", pa.float64()),
            ("item_idx", pa.int32()),
            ("neighbor_idx", pa.int32()),
        ]
    ),
    "probes": pa.schema(
        [
            ("run_id", pa.string()),
            ("source", pa.string()),
            ("target", pa.string()),
            ("mapper", pa.string()),
            ("shift", pa.string()),
            ("item_set", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("seed", pa.int32()),
        ]
    ),
    "runs": pa.schema(
        [
            ("run_id", pa.string()),
            ("step", pa.string()),
            ("view", pa.string()),
            ("config_hash", pa.string()),
            ("seed", pa.int64()),
            ("started_at", pa.timestamp("us", tz="UTC")),
            ("finished_at", pa.timestamp("us", tz="UTC")),
            ("seconds", pa.float64()),
            ("rows", pa.int64()),
            ("params", pa.string()),  # JSON
            ("metrics", pa.string()),  # JSON
            ("versions", pa.string()),  # JSON
        ]
    ),
}

# Integer keys beside the string ids (joins on them are cheaper; the ids stay for people): column,
# its id column, and the table whose ``*_idx`` numbers it.
INDEX_KEYS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "interactions": (("user_idx", "user_id", "users"), ("item_idx", "item_id", "items")),
    "topk": (("user_idx", "user_id", "users"), ("item_idx", "item_id", "items")),
    "neighbors": (("item_idx", "item_id", "items"), ("neighbor_idx", "neighbor_id", "items")),
}

SINGLE_TABLES = ("items", "users", "interactions", "runs")
PARTITIONED_TABLES = ("embeddings", "topk", "neighbors", "probes")
TABLE_NAMES = SINGLE_TABLES + PARTITIONED_TABLES

VIEW_NAME = re.compile(r"^[a-z0-9_-]+$")


def check_view_name(name: str) -> str:
    """A view name is any ``[a-z0-9_-]+`` (docs/design.md)."""
    if not VIEW_NAME.match(name or ""):
        raise ComplementError(f"invalid view name '{name}': use lower-case letters, digits, '_' and '-'")
    return name


def conform(name: str, table: pa.Table) -> pa.Table:
    """Cast ``table`` to the contract schema of ``name``; extra columns are kept after the contract ones."""
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise ComplementError(
            f"table '{name}' lacks columns {missing} (found: {', '.join(table.column_names)})"
        )
    columns = [table.column(f.name).cast(f.type) for f in schema]
    fields = list(schema)
    for extra in table.column_names:
        if extra not in schema.names:
            columns.append(table.column(extra))
            fields.append(table.schema.field(extra))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
