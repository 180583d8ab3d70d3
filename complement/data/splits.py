"""Train/valid/test splits of interactions, in pure numpy.

Every function takes the interactions already sorted by user and, within a user, by time (or
sequence order), and returns one split code per row: ``TRAIN`` (0), ``VALID`` (1), ``TEST`` (2).
Every row gets exactly one code. The same input and seed give the same codes.

- :func:`random_split` — per user, seeded: a user with ``n`` units gets ``round(r_test * n)`` test
  and ``round(r_valid * n)`` valid units (half rounds up), the rest train. So each split count is
  within one unit of its ratio. With 8:1:1 a user with fewer than 5 units keeps them all in train
  (and is not evaluated). A *unit* is a distinct (user, item) pair: when repeats are kept (sequence
  data), every repeat of a pair goes to the split of the pair, so a test item is never also a train
  item of the same user. This is the paper's protocol (RecBole ``RS: [0.8, 0.1, 0.1]``, ``order: RO``).
- :func:`loo_split` — leave one out by time / sequence order: the last row of a user is test, the
  second-to-last valid, the rest train. Users with fewer than 3 rows keep them all in train.
- :func:`temporal_split` — global time cut-offs at quantiles ``q1 < q2`` of all timestamps
  (linear interpolation): ``ts <= t1`` train, ``t1 < ts <= t2`` valid, ``ts > t2`` test.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, DataError

TRAIN, VALID, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "valid", "test")
METHODS = ("random", "loo", "temporal")


def _group_starts(user: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and size of each run of equal ``user`` values (``user`` is sorted)."""
    n = len(user)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    boundaries = np.flatnonzero(np.diff(user)) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    sizes = np.diff(np.concatenate([starts, [n]])).astype(np.int64)
    return starts, sizes


def _rank_within_user(user: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by user: the 0-based position of each row within its user, and the user's size."""
    starts, sizes = _group_starts(user)
    size_per_row = np.repeat(sizes, sizes)
    position = np.arange(len(user), dtype=np.int64) - np.repeat(starts, sizes)
    return position, size_per_row


def check_ratios(ratios) -> tuple[float, float, float]:
    """Three non-negative ratios with a positive train share, normalised to sum to 1."""
    try:
        values = tuple(float(r) for r in ratios)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(math.isfinite(r) and r >= 0 for r in values) or values[0] <= 0:
        raise ConfigError(
            "split ratios must be three finite non-negative numbers train,valid,test with train > 0, got "
            f"{list(ratios)}"
        )
    total = sum(values)
    return values[0] / total, values[1] / total, values[2] / total


def check_cutoffs(cutoffs) -> tuple[float, float]:
    """Temporal cut-offs: quantiles ``0 < q1 <= q2 < 1`` (``q2 = 1`` would leave the test split empty;
    ``q1 = q2`` leaves valid empty, which training allows: it then runs every epoch without early stopping)."""
    try:
        q1, q2 = (float(c) for c in cutoffs)
    except (TypeError, ValueError):
        raise ConfigError(f"temporal cut-offs must be two quantiles q1,q2, got {cutoffs!r}") from None
    if not (math.isfinite(q1) and math.isfinite(q2) and 0 < q1 <= q2 < 1):
        raise ConfigError(
            f"temporal cut-offs must be quantiles 0 < q1 <= q2 < 1, got {list(cutoffs)} "
            "(q2 = 1 leaves nothing after it for the test split)"
        )
    return q1, q2


def check_split(method: str, ratios, temporal_cutoffs=None) -> tuple[float, float, float]:
    """The ratios of a split, normalised (:func:`check_ratios`), refused when the split would have nothing to
    evaluate: a test share of 0 for the random split, or for the temporal one when its cut-offs come from the
    ratios (explicit ``temporal_cutoffs`` are checked instead). A valid share of 0 is allowed: training then
    runs every epoch with no early stopping. Leave-one-out ignores the ratios."""
    normalised = check_ratios(ratios)
    if method == "temporal" and temporal_cutoffs:
        check_cutoffs(temporal_cutoffs)
    elif method in ("random", "temporal") and normalised[2] == 0:
        raise ConfigError(
            f"split ratios {list(ratios)} give the test split no interactions, so there is nothing to evaluate: "
            "give test a positive share, e.g. 0.8,0.1,0.1"
        )
    return normalised


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5 + 1e-9).astype(np.int64)


def random_split(user: np.ndarray, unit: np.ndarray, ratios=(0.8, 0.1, 0.1), seed: int = 2020) -> np.ndarray:
    """Per-user random split (see the module docstring).

    ``user``: user code per row, sorted. ``unit``: per row, the index of the first row of its
    (user, item) pair (``unit[i] == i`` for a first occurrence). Returns int8 split codes."""
    _, r_valid, r_test = check_ratios(ratios)
    n_rows = len(user)
    codes = np.zeros(n_rows, np.int8)
    if n_rows == 0:
        return codes
    first = np.flatnonzero(unit == np.arange(n_rows))
    unit_user = user[first]
    # A random key per unit, then the units' order within their user by that key.
    keys = np.random.default_rng(seed).random(len(first))
    order = np.lexsort((keys, unit_user))
    position, size = _rank_within_user(unit_user[order])
    n_test = _round_half_up(r_test * size)
    n_valid = _round_half_up(r_valid * size)
    unit_codes = np.full(len(first), TRAIN, np.int8)
    shuffled = np.where(position < n_test, TEST, np.where(position < n_test + n_valid, VALID, TRAIN)).astype(np.int8)
    unit_codes[order] = shuffled
    code_of_first = np.zeros(n_rows, np.int8)
    code_of_first[first] = unit_codes
    codes[:] = code_of_first[unit]
    return codes


def loo_split(user: np.ndarray) -> np.ndarray:
    """Leave-one-out on rows sorted by user then time: last -> test, second-to-last -> valid.
    Users with fewer than 3 rows are all train."""
    position, size = _rank_within_user(user)
    from_end = size - 1 - position
    codes = np.full(len(user), TRAIN, np.int8)
    long_enough = size >= 3
    codes[long_enough & (from_end == 0)] = TEST
    codes[long_enough & (from_end == 1)] = VALID
    return codes


def temporal_split(ts: np.ndarray, ts_valid: np.ndarray, cutoffs=(0.8, 0.9)) -> np.ndarray:
    """Global time split at the ``cutoffs`` quantiles of ``ts`` (see the module docstring)."""
    q1, q2 = check_cutoffs(cutoffs)
    if len(ts) and not ts_valid.all():
        raise DataError(
            f"the temporal split needs a timestamp on every interaction; {int((~ts_valid).sum())} have none "
            "(use --split random or --split loo)"
        )
    codes = np.full(len(ts), TRAIN, np.int8)
    if len(ts) == 0:
        return codes
    t1, t2 = np.quantile(ts.astype(np.float64), [q1, q2])
    codes[ts > t1] = VALID
    codes[ts > t2] = TEST
    return codes
