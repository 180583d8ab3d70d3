"""From loaded interactions and item metadata to the workspace tables ``items``, ``users`` and
``interactions`` (with ``split``), ``n_train`` and ``pop_group``.

:func:`build_tables` is the one place every loader (and the synthetic generator) goes through:
filters (:mod:`.filters`), then the split (:mod:`.splits`), then the tables, validated in memory
before any file is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..checks import finite, integer
from ..errors import ConfigError, DataError, unknown_name
from ..workspace import Workspace
from . import filters, splits
from .filters import Frame
from .generic import check_unique_ids

#: Columns of ``items`` computed here; an items input may not supply them.
COMPUTED_ITEM_COLUMNS = ("item_idx", "n_train", "pop_group")


@dataclass
class IngestSummary:
    """What an ingest produced; ``lines()`` is the human summary printed on stderr."""

    users: int
    items: int
    interactions: int
    density: float
    splits: dict[str, int]
    items_without_text: int
    dropped: dict[str, int] = field(default_factory=dict)
    split_method: str = "random"
    repeats_kept: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        split_text = " · ".join(f"{name} {self.splits.get(name, 0):,}" for name in splits.SPLIT_NAMES)
        dropped = " · ".join(f"{name} {count:,}" for name, count in self.dropped.items()) or "nothing"
        out = [
            f"{self.users:,} users · {self.items:,} items · {self.interactions:,} interactions "
            f"(density {self.density:.4%})",
            f"split ({self.split_method}): {split_text}",
            f"dropped by filters: {dropped}",
            f"items without text: {self.items_without_text:,}",
        ]
        if self.repeats_kept:
            out.append("repeated (user, item) pairs kept (sequence data)")
        return out


# ---- Arrow <-> codes --------------------------------------------------------------------------
def _string_column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name).combine_chunks()
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return column.cast(pa.string())


def natural_order(ids: pa.Array) -> np.ndarray:
    """Permutation sorting ids numerically when every id is an integer, else as strings."""
    if len(ids) == 0:
        return np.zeros(0, np.int64)
    if pc.all(pc.match_substring_regex(ids, r"^[0-9]{1,18}$")).as_py():
        numbers = pc.cast(ids, pa.int64()).to_numpy()
        return np.lexsort((np.asarray(ids.to_pylist(), dtype=object).astype(str), numbers))
    return pc.sort_indices(ids).to_numpy()


def _encode(column: pa.Array) -> tuple[np.ndarray, pa.Array]:
    encoded = pc.dictionary_encode(column)
    return encoded.indices.to_numpy().astype(np.int64), encoded.dictionary


def frame_from_arrow(interactions: pa.Table) -> tuple[Frame, pa.Array, pa.Array]:
    """Validate an interactions table and turn it into codes: ``(frame, user_ids, item_ids)``."""
    missing = [c for c in ("user_id", "item_id") if c not in interactions.column_names]
    if missing:
        raise DataError(
            f"interactions lack column(s) {', '.join(missing)} (found: {', '.join(interactions.column_names)})"
        )
    n = interactions.num_rows
    users, items = _string_column(interactions, "user_id"), _string_column(interactions, "item_id")
    for name, column in (("user", users), ("item", items)):
        if column.null_count:
            raise DataError(f"{column.null_count:,} interactions have no {name} id")
        check_one_line_ids(column, f"{name} ids of the interactions")
    user_codes, user_ids = _encode(users)
    item_codes, item_ids = _encode(items)
    row = np.arange(n, dtype=np.int64)
    if "ts" in interactions.column_names:
        ts_col = pc.cast(interactions.column("ts").combine_chunks(), pa.int64())
        has_ts = ts_col.is_valid().to_numpy(zero_copy_only=False)
        ts = ts_col.fill_null(0).to_numpy().astype(np.int64)
    else:
        ts, has_ts = np.zeros(n, np.int64), np.zeros(n, bool)
    if "rating" in interactions.column_names:
        rating_col = pc.cast(interactions.column("rating").combine_chunks(), pa.float64())
        values = rating_col.to_numpy(zero_copy_only=False)
        bad = rating_col.is_valid().to_numpy(zero_copy_only=False) & ~np.isfinite(values)
        if bad.any():  # NaN fails every comparison and inf passes every threshold: refuse both
            examples = ", ".join(f"row {r + 1}: {values[r]}" for r in np.flatnonzero(bad)[:3])
            raise DataError(f"{int(bad.sum()):,} interactions have a non-finite rating (NaN or ±inf; {examples})")
        rating = rating_col.fill_null(np.nan).to_numpy(zero_copy_only=False)
    else:
        rating = np.full(n, np.nan)
    if "seq" in interactions.column_names:
        seq_col = pc.cast(interactions.column("seq").combine_chunks(), pa.int64())
        seq = np.where(seq_col.is_valid().to_numpy(zero_copy_only=False), seq_col.fill_null(0).to_numpy(), row)
    else:
        seq = row.copy()
    frame = Frame(user_codes, item_codes, ts, has_ts, np.asarray(rating, np.float64), np.asarray(seq, np.int64), row)
    return frame, user_ids, item_ids


def check_one_line_ids(ids: pa.Array, what: str) -> None:
    """Refuse ids holding a line break: every line-based format downstream (ids files, CSV exports,
    the terminal table) would split them into two."""
    broken = pc.match_substring_regex(ids, r"[\r\n]").fill_null(False)
    count = pc.sum(broken).as_py() or 0
    if count:
        examples = ", ".join(repr(v) for v in pc.filter(ids, broken).unique().to_pylist()[:3])
        raise DataError(f"{count:,} {what} contain a line break (e.g. {examples}); ids must be one line")


def _reindex(codes: np.ndarray, ids: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes of the ids that remain, renumbered 0..n-1 in the ids' natural order."""
    present = np.unique(codes)
    kept_ids = ids.take(pa.array(present))
    order = natural_order(kept_ids)
    new_code = np.empty(len(ids), np.int64)
    new_code[present[order]] = np.arange(len(present))
    return new_code[codes], kept_ids.take(pa.array(order))


# ---- popularity -------------------------------------------------------------------------------
def pop_groups(n_train: np.ndarray) -> np.ndarray:
    """``cold`` = n_train <= the 0.60 quantile, ``hot`` = n_train > the 0.80 quantile, ``mid`` the
    rest; quantiles over all items with linear interpolation (numpy's default, DuckDB's
    ``quantile_cont``), as in the paper (docs/design.md)."""
    if len(n_train) == 0:
        return np.zeros(0, dtype=object)
    q60, q80 = np.quantile(n_train.astype(np.float64), [0.6, 0.8])
    return np.where(n_train <= q60, "cold", np.where(n_train > q80, "hot", "mid")).astype(object)


# ---- items ------------------------------------------------------------------------------------
def _item_metadata(items: pa.Table | None, item_ids: pa.Array) -> pa.Table:
    """Metadata rows aligned with ``item_ids`` (NULLs for items the metadata lacks)."""
    if items is None:
        return pa.table({"title": pa.nulls(len(item_ids), pa.string()), "text": pa.nulls(len(item_ids), pa.string())})
    if "item_id" not in items.column_names:
        raise DataError(f"item metadata lacks column item_id (found: {', '.join(items.column_names)})")
    meta_ids = _string_column(items, "item_id")
    check_unique_ids(meta_ids, "item metadata")
    check_one_line_ids(meta_ids, "item ids of the item metadata")
    positions = pc.index_in(item_ids, value_set=meta_ids)
    columns, names = [], []
    for name in items.column_names:
        if name == "item_id" or name in COMPUTED_ITEM_COLUMNS:
            continue
        columns.append(items.column(name).combine_chunks().take(positions))
        names.append(name)
    for name in ("title", "text"):
        if name not in names:
            columns.append(pa.nulls(len(item_ids), pa.string()))
            names.append(name)
    return pa.Table.from_arrays(columns, names=names)


def _clean_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Text as strings with empty / whitespace-only values turned into NULL."""
    column = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
    blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    return pc.if_else(blank, pa.scalar(None, pa.string()), column)


# ---- the pipeline -----------------------------------------------------------------------------
def build_tables(
    ws: Workspace,
    interactions: pa.Table,
    items: pa.Table | None,
    *,
    min_rating: float | None = None,
    kcore: int = 0,
    split: str = "random",
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 2020,
    temporal_cutoffs: tuple[float, float] | None = None,
    collapse_repeats: bool | None = None,
) -> IngestSummary:
    """Filter, split and write ``items``, ``users`` and ``interactions`` to ``ws``.

    ``interactions``: ``user_id``, ``item_id`` and optional ``ts`` (int64), ``rating`` (float64),
    ``seq`` (int64, order within a user when there is no time). ``items``: ``item_id``, ``title``,
    ``text`` (rendered) and any extra columns, kept in ``items``. ``collapse_repeats``: ``None``
    collapses repeated (user, item) pairs to the earliest unless the data is a sequence (has
    ``seq`` and no timestamps), where a repeat purchase is a real event and is kept.
    ``temporal_cutoffs``: quantiles of time for the temporal split (default: the cumulative ratios).
    Nothing is written unless every table was built."""
    if split not in splits.METHODS:
        raise ConfigError(unknown_name("split method", split, splits.METHODS))
    ratios = splits.check_split(split, ratios, temporal_cutoffs)
    integer("--kcore", kcore, minimum=0)
    finite("--min-rating", min_rating)
    if interactions.num_rows == 0:
        raise DataError("the dataset has no interactions")
    frame, user_ids, item_ids = frame_from_arrow(interactions)

    dropped: dict[str, int] = {}
    if min_rating is not None:
        before = len(frame)
        frame = filters.min_rating(frame, float(min_rating))
        dropped["min-rating"] = before - len(frame)
    if collapse_repeats is None:
        collapse_repeats = not ("seq" in interactions.column_names and not frame.has_ts.any())
    if collapse_repeats:
        before = len(frame)
        frame = filters.collapse_repeats(frame)
        dropped["repeats"] = before - len(frame)
    if kcore > 1:
        before = len(frame)
        frame = filters.kcore(frame, kcore, len(user_ids), len(item_ids))
        dropped["kcore"] = before - len(frame)

    frame.user, user_ids = _reindex(frame.user, user_ids)
    frame.item, item_ids = _reindex(frame.item, item_ids)
    frame = frame.take(frame.chronological_order())
    n_users, n_items = len(user_ids), len(item_ids)

    if split == "random":
        codes = splits.random_split(frame.user, filters.unit_of_rows(frame.user, frame.item), ratios, seed)
    elif split == "loo":
        codes = splits.loo_split(frame.user)
    else:
        cutoffs = temporal_cutoffs or (ratios[0], ratios[0] + ratios[1])
        codes = splits.temporal_split(frame.ts, frame.has_ts, cutoffs)
    split_names = np.asarray(splits.SPLIT_NAMES, dtype=object)[codes]

    train = codes == splits.TRAIN
    item_n_train = np.bincount(frame.item[train], minlength=n_items).astype(np.int32)
    user_n_train = np.bincount(frame.user[train], minlength=n_users).astype(np.int32)

    meta = _item_metadata(items, item_ids)
    text = _clean_text(meta.column("text"))
    items_table = pa.table(
        {
            "item_id": item_ids,
            "item_idx": pa.array(np.arange(n_items, dtype=np.int32)),
            "title": pc.cast(meta.column("title"), pa.string()),
            "text": text,
            "n_train": pa.array(item_n_train),
            "pop_group": pa.array(pop_groups(item_n_train), pa.string()),
        }
    )
    for name in meta.column_names:
        if name not in ("title", "text"):
            items_table = items_table.append_column(name, meta.column(name))
    users_table = pa.table(
        {
            "user_id": user_ids,
            "user_idx": pa.array(np.arange(n_users, dtype=np.int32)),
            "n_train": pa.array(user_n_train),
        }
    )
    columns = {
        "user_id": user_ids.take(pa.array(frame.user)),
        "item_id": item_ids.take(pa.array(frame.item)),
        "ts": pa.array(frame.ts, pa.int64(), mask=~frame.has_ts),
        "rating": pa.array(frame.rating, pa.float64(), mask=np.isnan(frame.rating)),
        "split": pa.array(split_names, pa.string()),
        "user_idx": pa.array(
            frame.user, pa.int32()
        ),  # positions in user_ids / item_ids = users.user_idx / items.item_idx
        "item_idx": pa.array(frame.item, pa.int32()),
    }
    if "seq" in interactions.column_names:
        columns["seq"] = pa.array(frame.seq, pa.int64())
    interactions_table = pa.table(columns)

    from .. import tables

    built = {
        name: tables.conform(name, t)
        for name, t in (("interactions", interactions_table), ("users", users_table), ("items", items_table))
    }
    for name, table in built.items():
        ws.write_table(name, table)

    counts = np.bincount(codes, minlength=3)
    return IngestSummary(
        users=n_users,
        items=n_items,
        interactions=len(frame),
        density=len(frame) / max(1, n_users * n_items),
        splits={name: int(counts[i]) for i, name in enumerate(splits.SPLIT_NAMES)},
        items_without_text=int(text.null_count),
        dropped=dropped,
        split_method=split,
        repeats_kept=not collapse_repeats,
    )
