"""Amazon Reviews 2023 (McAuley lab) JSON Lines files, plain or gzipped.

- Reviews (``<Category>.jsonl[.gz]``): one review per line with ``user_id``, ``parent_asin``,
  ``rating`` and ``timestamp`` (Unix milliseconds; stored as seconds in ``interactions.ts``).
  The item id is ``parent_asin`` (the product, not the variant ``asin``).
- Meta (``meta_<Category>.jsonl[.gz]``): ``parent_asin``, ``title``, ``features`` (list),
  ``description`` (list), ``categories`` (list), ``details`` (object), plus ``main_category`` and
  ``store`` when present. Lists are joined with ", "; ``details`` becomes "key: value; ...".

``--path`` is a reviews file (its ``meta_`` sibling is used when present) or a folder holding
one reviews file and at most one meta file. A line that is not JSON is a :class:`DataError`
with file and line number.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from ..errors import DataError
from .generic import Loaded, existing_path, find_files, iter_lines

SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
REVIEW_FIELDS = ("user_id", "parent_asin", "rating", "timestamp")
META_TEXT_FIELDS = ("title", "main_category", "store", "categories", "features", "description", "details")
TEMPLATE = "{title}. Store: {store}. Categories: {categories}. Features: {features}. Description: {description}"


def _records(path: Path):
    """``(line_number, dict)`` for each non-empty line."""
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not a JSON record ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def _files(path: Path) -> tuple[Path, Path | None]:
    if path.is_file():
        meta = path.with_name("meta_" + path.name)
        return path, meta if meta.exists() else None
    files = find_files(path, *SUFFIXES)
    metas = [p for p in files if p.name.startswith("meta_")]
    reviews = [p for p in files if not p.name.startswith("meta_")]
    if len(reviews) != 1 or len(metas) > 1:
        names = ", ".join(p.name for p in files) or "none"
        raise DataError(
            f"{path}: expected one reviews .jsonl[.gz] file and at most one meta_*.jsonl[.gz] file (found: {names}); "
            "pass --path REVIEWS_FILE"
        )
    return reviews[0], (metas[0] if metas else None)


def _number(value, path: Path, number: int, field: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{path}:{number}: field {field} is not a number ({value!r})") from None


def load_reviews(path: Path) -> pa.Table:
    users, items, ratings, times = [], [], [], []
    for number, record in _records(path):
        missing = [f for f in ("user_id", "parent_asin") if record.get(f) in (None, "")]
        if missing:
            found = ", ".join(record) or "none"
            raise DataError(f"{path}:{number}: review lacks {', '.join(missing)} (found: {found})")
        users.append(str(record["user_id"]))
        items.append(str(record["parent_asin"]))
        ratings.append(_number(record.get("rating"), path, number, "rating"))
        stamp = _number(record.get("timestamp"), path, number, "timestamp")
        times.append(None if stamp is None else int(stamp // 1000))
    return pa.table(
        {
            "user_id": pa.array(users, pa.string()),
            "item_id": pa.array(items, pa.string()),
            "ts": pa.array(times, pa.int64()),
            "rating": pa.array(ratings, pa.float64()),
        }
    )


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        parts = [_text(v) for v in value]
        return ", ".join(p for p in parts if p) or None
    if isinstance(value, dict):
        pairs = [f"{k}: {_text(v)}" for k, v in value.items() if _text(v)]
        return "; ".join(pairs) or None
    return str(value).strip() or None


def load_meta(path: Path) -> pa.Table:
    ids: list[str] = []
    seen: set[str] = set()
    columns: dict[str, list] = {f: [] for f in META_TEXT_FIELDS}
    for number, record in _records(path):
        item = record.get("parent_asin")
        if item in (None, ""):
            raise DataError(f"{path}:{number}: meta record lacks parent_asin (found: {', '.join(record) or 'none'})")
        item = str(item)
        if item in seen:
            raise DataError(f"{path}:{number}: duplicate item id '{item}'")
        seen.add(item)
        ids.append(item)
        for field in META_TEXT_FIELDS:
            columns[field].append(_text(record.get(field)))
    if not ids:
        raise DataError(f"{path}: no item records (an empty or truncated file?)")
    return pa.table(
        {"item_id": pa.array(ids, pa.string()), **{f: pa.array(v, pa.string()) for f, v in columns.items()}}
    )


def load(path: Path, options: dict | None = None) -> Loaded:
    reviews_path, meta_path = _files(existing_path(path))
    interactions = load_reviews(reviews_path)
    items = load_meta(meta_path) if meta_path else None
    return Loaded(interactions, items, TEMPLATE)
