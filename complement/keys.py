"""Integer keys at read time: the one place that makes ``user_idx``/``item_idx``/``neighbor_idx``
complete for readers, so the diagnostics can join and group on integers only.

Tables written by this version carry their keys (``Workspace._with_index_keys``). A table written
before its ``users``/``items`` existed holds NULL keys, and files from older versions lack the
columns: such a table is read through a SELECT that fills each incomplete key from its source
table (``users``: user_id -> user_idx, ``items``: item_id -> item_idx) or, when the workspace has
no source table, from the dense rank of the ids found in the tables that use the key. The SELECT is
plain SQL that DuckDB and Spark both run; whether a key is complete is read from the Parquet footers
(column present, no NULLs counted), so a current workspace pays nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from . import tables

# The id and key columns of each key source table.
SOURCE_COLUMNS = {"users": ("user_id", "user_idx"), "items": ("item_id", "item_idx")}


def _complete(files: Sequence[Path], column: str) -> bool:
    """Every file has ``column`` and its footer counts no NULL in it (a missing statistic counts as incomplete)."""
    import pyarrow.parquet as pq

    for path in files:
        meta = pq.ParquetFile(path).metadata
        names = meta.schema.names
        if column not in names:
            return False
        index = names.index(column)
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(index).statistics
            if stats is None or stats.null_count is None or stats.null_count > 0:
                return False
    return True


def incomplete_keys(files: Mapping[str, Sequence[Path]]) -> dict[str, list[tuple[str, str, str]]]:
    """For each table of ``files`` (name -> its Parquet files), the keys of ``tables.INDEX_KEYS``
    that some file lacks or holds NULL in: (key column, id column, source table)."""
    plan: dict[str, list[tuple[str, str, str]]] = {}
    for name, paths in files.items():
        if not paths:
            continue
        missing = [key for key in tables.INDEX_KEYS.get(name, ()) if not _complete(paths, key[0])]
        if missing:
            plan[name] = missing
    return plan


def columns_of(files: Sequence[Path]) -> list[str]:
    """The columns of a table read by name over ``files``: the first file's, then any new ones in file order."""
    import pyarrow.parquet as pq

    seen: list[str] = []
    for path in files:
        for name in pq.read_schema(path).names:
            if name not in seen:
                seen.append(name)
    return seen


def _key_relation(source: str, raw: Mapping[str, str], columns: Mapping[str, list[str]]) -> str:
    """A relation (id, idx) numbering the ids of ``source``: the source table's own numbering when the
    workspace has it, else the dense rank of the ids the tables using that key hold."""
    id_column, idx_column = SOURCE_COLUMNS[source]
    if source in raw and idx_column in columns[source]:
        return f"(SELECT {id_column} AS id, {idx_column} AS idx FROM {raw[source]})"
    found = [
        f"SELECT {id_col} AS id FROM {raw[name]}"
        for name, keys in tables.INDEX_KEYS.items()
        if name in raw
        for _, id_col, key_source in keys
        if key_source == source
    ]
    ids = " UNION ".join(found)
    return f"(SELECT id, CAST(dense_rank() OVER (ORDER BY id) - 1 AS INTEGER) AS idx FROM ({ids}) AS found)"


def keyed_select(
    name: str,
    raw: Mapping[str, str],
    columns: Mapping[str, list[str]],
    missing: Sequence[tuple[str, str, str]],
    quote: str = '"',
) -> str:
    """A SELECT reading table ``name`` from ``raw[name]`` with the ``missing`` keys filled in.

    ``raw`` maps each table of the workspace to a relation reading its files (a view name, or
    ``read_parquet([...])``), ``columns`` each table to its columns. The columns keep their order;
    a key the files lack comes last, as in the contract. ``quote`` quotes column names (Spark: a backtick)."""
    own = columns[name]
    joins, filled = [], {}
    for n, (key, id_column, source) in enumerate(missing):
        alias = f"k{n}"
        joins.append(f"LEFT JOIN {_key_relation(source, raw, columns)} AS {alias} ON {alias}.id = t.{id_column}")
        value = f"coalesce(t.{key}, {alias}.idx)" if key in own else f"{alias}.idx"
        filled[key] = f"CAST({value} AS INTEGER) AS {key}"
    selected = [filled.pop(c) if c in filled else f"t.{quote}{c}{quote}" for c in own] + list(filled.values())
    return f"SELECT {', '.join(selected)} FROM {raw[name]} AS t {' '.join(joins)}"
