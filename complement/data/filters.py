"""Interaction filters on integer-coded columns (numpy, no per-row Python).

The filters run in this order (see :func:`complement.data.pipeline.build_tables`):

1. ``min_rating`` — keep rows with ``rating >= R`` (implicit feedback from explicit ratings);
2. ``repeats`` — collapse repeated (user, item) pairs to the earliest (by time, then sequence
   position, then file order);
3. ``kcore`` — iteratively drop users and items with fewer than ``k`` interactions until every
   remaining user and item has at least ``k``.

A filter that leaves nothing raises :class:`DataError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..errors import DataError


@dataclass
class Frame:
    """Interactions as parallel numpy arrays.

    ``user``/``item`` are codes into ``user_ids``/``item_ids``; ``ts`` is int64 with ``has_ts`` its
    validity; ``rating`` is float64 with NaN for none; ``seq`` the position within the user's
    sequence (the input row number when the data has none); ``row`` the input row number."""

    user: np.ndarray
    item: np.ndarray
    ts: np.ndarray
    has_ts: np.ndarray
    rating: np.ndarray
    seq: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def take(self, index: np.ndarray) -> Frame:
        """Rows selected by a boolean mask or an index array."""
        return Frame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def chronological_order(self) -> np.ndarray:
        """Row order by user, then time (rows without a time last), then sequence, then file order."""
        ts_key = np.where(self.has_ts, self.ts, np.iinfo(np.int64).max)
        return np.lexsort((self.row, self.seq, ts_key, self.user))


def _not_empty(frame: Frame, name: str, detail: str) -> Frame:
    if len(frame) == 0:
        raise DataError(f"the {name} filter ({detail}) removed every interaction; relax it")
    return frame


def min_rating(frame: Frame, threshold: float) -> Frame:
    """Keep interactions rated at least ``threshold``; unrated ones are dropped."""
    if len(frame) and np.isnan(frame.rating).all():
        raise DataError(
            f"a minimum rating of {threshold:g} (--min-rating, or min_rating in [dataset]) needs ratings, but this "
            "dataset has none: leave it out"
        )
    keep = frame.rating >= threshold  # NaN compares False
    return _not_empty(frame.take(keep), "min-rating", f"rating >= {threshold:g}")


def collapse_repeats(frame: Frame) -> Frame:
    """Keep the earliest interaction of each (user, item) pair; the result is in file order."""
    if len(frame) == 0:
        return frame
    ts_key = np.where(frame.has_ts, frame.ts, np.iinfo(np.int64).max)
    order = np.lexsort((frame.row, frame.seq, ts_key, frame.item, frame.user))
    user, item = frame.user[order], frame.item[order]
    first = np.ones(len(order), bool)
    first[1:] = (user[1:] != user[:-1]) | (item[1:] != item[:-1])
    kept = np.sort(order[first])
    return frame.take(kept)


def kcore(frame: Frame, k: int, n_users: int, n_items: int) -> Frame:
    """Iterative k-core: repeat dropping users and items with fewer than ``k`` interactions."""
    if k <= 1:
        return frame
    keep = np.ones(len(frame), bool)
    while True:
        user_counts = np.bincount(frame.user[keep], minlength=n_users)
        item_counts = np.bincount(frame.item[keep], minlength=n_items)
        still = keep & (user_counts[frame.user] >= k) & (item_counts[frame.item] >= k)
        if still.sum() == keep.sum():
            break
        keep = still
        if not keep.any():
            break
    return _not_empty(frame.take(keep), "kcore", f"every user and item with >= {k} interactions")


def unit_of_rows(user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """For each row, the index of the first row with the same (user, item) pair (rows in any order)."""
    n = len(user)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((np.arange(n), item, user))
    u, i = user[order], item[order]
    new_pair = np.ones(n, bool)
    new_pair[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    group_first = order[np.maximum.accumulate(np.where(new_pair, np.arange(n), 0))]
    unit = np.empty(n, np.int64)
    unit[order] = group_first
    return unit
