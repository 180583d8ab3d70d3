"""RecBole atomic files (TAB-separated, typed header ``name:type``), found in a folder by suffix.

- Plain ``.inter``: ``user_id:token item_id:token [rating:float] [timestamp:float]``; several
  ``.inter`` files (e.g. ``x.train.inter``, ``x.test.inter``) are concatenated — complement makes
  its own split.
- Sequential ``.inter`` (``user_id:token item_id_list:token_seq item_id:token``): each row is a
  history and the next item. The full sequence of a user is rebuilt from the rows of all files:
  the shortest history, then every row's target in order (train rows, then valid, then test;
  within a file by history length, ties — histories capped at 50 — in reverse file order, as
  UniSRec stores a user's train rows longest first). When only a test file exists it is simply
  history + target. Rows get ``seq`` = position in the sequence (no timestamps).
- ``.item``: item fields (every text-like field is usable in the template; the default template
  joins them, title first).
- UniSRec style: ``.text`` (``item_id:token text:token_seq``) keyed by the raw item id, and
  ``.item2index`` / ``.user2index`` mapping raw ids to the integer tokens of the ``.inter`` files;
  interactions then use the raw ids (ASINs, reviewer ids).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from .generic import Loaded, check_unique_ids, existing_path, find_files, iter_lines, read_delimited
from .text import default_template

SPLIT_RANK = {"train": 0, "valid": 1, "test": 2}


def _field_names(path: Path) -> tuple[list[str], list[str]]:
    """``(names, types)`` from a typed header line such as ``user_id:token<TAB>item_id:token``."""
    for _, line in iter_lines(path):
        header = line
        break
    else:
        raise DataError(f"{path}: empty file")
    names, types = [], []
    for column in header.split("\t"):
        name, sep, kind = column.partition(":")
        if not sep:
            raise DataError(
                f"{path}:1: header field '{column}' is not name:type (RecBole atomic files need typed headers)"
            )
        names.append(name.strip())
        types.append(kind.strip())
    return names, types


def read_atomic(path: Path) -> pa.Table:
    """An atomic file with every column as strings (ids keep leading zeros), named without ``:type``."""
    names, types = _field_names(path)
    headers = [f"{n}:{t}" for n, t in zip(names, types, strict=True)]
    table = read_delimited(path, "\t", column_types={h: pa.string() for h in headers}, quoting=False)
    return table.rename_columns(names)


def _split_of(path: Path) -> str:
    parts = path.name.split(".")
    for part in reversed(parts[:-1]):
        if part in SPLIT_RANK:
            return part
    return "train"


def _index_map(path: Path) -> dict[str, str]:
    """``index -> raw id`` from a UniSRec ``.item2index`` / ``.user2index`` file (no header)."""
    mapping: dict[str, str] = {}
    first_line: dict[str, int] = {}  # raw id -> line: one id with two indices would merge two users (items)
    what = "user" if path.name.endswith(".user2index") else "item"
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        raw, sep, index = line.rpartition("\t")
        if not sep:
            raise DataError(f"{path}:{number}: expected 'raw_id<TAB>index'")
        index = index.strip()
        if index in mapping:
            raise DataError(
                f"{path}:{number}: index {index} is given twice ('{mapping[index]}' and '{raw}'); "
                f"each {what} needs its own"
            )
        if raw in first_line:
            raise DataError(f"{path}:{number}: duplicate {what} id '{raw}' (also on line {first_line[raw]})")
        mapping[index] = raw
        first_line[raw] = number
    return mapping


def _sequences(files: list[Path]) -> tuple[list[str], list[str], list[int]]:
    """Rebuild full per-user sequences from sequential .inter files: ``(users, items, positions)``."""
    rows: dict[str, list[tuple]] = {}
    for path in files:
        table = read_atomic(path)
        needed = ("user_id", "item_id_list", "item_id")
        if any(c not in table.column_names for c in needed):
            raise DataError(
                f"{path}: sequential .inter needs user_id, item_id_list, item_id "
                f"(found: {', '.join(table.column_names)})"
            )
        rank = SPLIT_RANK[_split_of(path)]
        users = table["user_id"].to_pylist()
        histories = table["item_id_list"].to_pylist()
        targets = table["item_id"].to_pylist()
        for line, (user, history, target) in enumerate(zip(users, histories, targets, strict=True)):
            items = history.split() if history else []
            rows.setdefault(user, []).append((rank, len(items), -line, items, target))
    out_users: list[str] = []
    out_items: list[str] = []
    out_positions: list[int] = []
    folder = files[0].parent
    for user, user_rows in rows.items():
        user_rows.sort(key=lambda r: r[:3])
        sequence = list(user_rows[0][3]) + [r[4] for r in user_rows]
        _check_windows(user, user_rows, sequence, folder)
        out_users.extend([user] * len(sequence))
        out_items.extend(sequence)
        out_positions.extend(range(len(sequence)))
    return out_users, out_items, out_positions


def _check_windows(user: str, user_rows: list[tuple], sequence: list[str], folder: Path) -> None:
    """Each row's history must be the (capped) window that ends just before its target."""
    start = len(user_rows[0][3])
    for offset, (_, length, _, history, target) in enumerate(user_rows):
        end = start + offset
        if sequence[end] != target or sequence[max(0, end - length) : end] != history:
            raise DataError(
                f"{folder}: the sequential .inter files do not form one consistent sequence for user {user}; "
                "pass the folder with the train/valid/test files of one dataset"
            )


def _ids(mapping: dict[str, str] | None, tokens: list[str]) -> list[str]:
    if not mapping:
        return tokens
    try:
        return [mapping[t] for t in tokens]
    except KeyError as exc:
        raise DataError(f"index {exc.args[0]} is not in the .item2index/.user2index file") from None


def load(path: Path, options: dict | None = None) -> Loaded:
    """Load RecBole atomic files from a folder (or the folder of the given file)."""
    path = existing_path(path)
    folder = path if path.is_dir() else path.parent
    inter_files = [path] if path.is_file() and path.name.endswith(".inter") else find_files(folder, ".inter")
    if not inter_files:
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:12]) or "nothing"
        raise DataError(f"{folder}: no RecBole .inter file (found: {found})")
    kinds = {tuple(_field_names(p)[0]) for p in inter_files}
    sequential = [p for p in inter_files if "item_id_list" in _field_names(p)[0]]
    item_map = user_map = None
    item2index, user2index = find_files(folder, ".item2index"), find_files(folder, ".user2index")
    if item2index:
        item_map = _index_map(item2index[0])
    if user2index:
        user_map = _index_map(user2index[0])

    if sequential:
        if len(sequential) != len(inter_files):
            raise DataError(f"{folder}: mixes sequential and plain .inter files ({len(kinds)} different headers)")
        users, items, positions = _sequences(sequential)
        interactions = pa.table(
            {"user_id": _ids(user_map, users), "item_id": _ids(item_map, items), "seq": pa.array(positions, pa.int64())}
        )
    else:
        interactions = _plain_interactions(inter_files, item_map, user_map)
    items_table, template = _items(folder, item_map)
    return Loaded(interactions, items_table, template)


def _plain_interactions(files: list[Path], item_map, user_map) -> pa.Table:
    parts = []
    for path in files:
        table = read_atomic(path)
        missing = [c for c in ("user_id", "item_id") if c not in table.column_names]
        if missing:
            raise DataError(f"{path}: no column(s) {', '.join(missing)} (found: {', '.join(table.column_names)})")
        columns = {
            "user_id": pa.array(_ids(user_map, table["user_id"].to_pylist()), pa.string())
            if user_map
            else table["user_id"],
            "item_id": pa.array(_ids(item_map, table["item_id"].to_pylist()), pa.string())
            if item_map
            else table["item_id"],
        }
        try:
            if "timestamp" in table.column_names:
                columns["ts"] = pc.cast(pc.floor(pc.cast(table["timestamp"], pa.float64())), pa.int64())
            if "rating" in table.column_names:
                columns["rating"] = pc.cast(table["rating"], pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(f"{path}: rating/timestamp values are not numbers") from None
        parts.append(pa.table(columns))
    return pa.concat_tables(parts, promote_options="default")


def _items(folder: Path, item_map: dict[str, str] | None) -> tuple[pa.Table | None, str]:
    """Item fields from ``.item`` and/or ``.text`` files, keyed by the raw item id."""
    tables = []
    for path in find_files(folder, ".item") + find_files(folder, ".text"):
        table = read_atomic(path)
        id_column = "item_id" if "item_id" in table.column_names else table.column_names[0]
        table = table.rename_columns(["item_id" if c == id_column else c for c in table.column_names])
        check_unique_ids(table["item_id"], path)
        if item_map and path.name.endswith(".item") and not _looks_raw(table["item_id"], item_map):
            table = table.set_column(0, "item_id", pa.array(_ids(item_map, table["item_id"].to_pylist()), pa.string()))
        tables.append(table)
    if not tables:
        return None, ""
    merged = tables[0]
    for extra in tables[1:]:
        positions = pc.index_in(merged["item_id"], value_set=extra["item_id"])
        for name in extra.column_names:
            if name != "item_id" and name not in merged.column_names:
                merged = merged.append_column(name, extra[name].combine_chunks().take(positions))
    if "title" not in merged.column_names:
        merged = merged.append_column("title", pa.nulls(merged.num_rows, pa.string()))
    fields = [c for c in merged.column_names if c != "item_id"]
    template = (
        "{text}"
        if fields == ["text", "title"]
        else default_template([c for c in fields if c != "title" or _has_values(merged["title"])])
    )
    return merged, template


def _has_values(column: pa.ChunkedArray) -> bool:
    return column.null_count < len(column)


def _looks_raw(ids: pa.ChunkedArray, item_map: dict[str, str]) -> bool:
    """True when the ids are already raw ids (values of the index map), not integer tokens."""
    sample = ids.slice(0, 20).to_pylist()
    raw_values = set(item_map.values()) if len(item_map) < 1_000_000 else set()
    return bool(sample) and all(s in raw_values for s in sample)
