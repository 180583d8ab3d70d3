"""Item splits for a probe (``--shift``): which items a mapper is fitted on and which it is tested on.

- ``random``: a seeded 80/20 split of all items (the paper's protocol); changes with the seed.
- ``popularity``: fit on ``hot`` + ``mid`` items, test on ``cold`` ones (``items.pop_group``).
- ``cold``: test on items with ``n_train <= cold_n``, fit on the rest."""

from __future__ import annotations

import numpy as np

from ..checks import comma_list
from ..errors import ConfigError, DataError, unknown_name

SHIFTS = ("random", "popularity", "cold")
RANDOM_HELD_OUT_SHARE = 0.2
MIN_ITEMS = 3


def split_items(
    shift: str,
    n_items: int,
    seed: int = 0,
    pop_group: np.ndarray | None = None,
    n_train: np.ndarray | None = None,
    cold_n: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """``(fit_items, held_out_items)``: sorted item_idx arrays for the named shift."""
    if shift == "random":
        order = np.random.default_rng(seed).permutation(n_items)
        n_held = round(RANDOM_HELD_OUT_SHARE * n_items)
        fit, held = order[n_held:], order[:n_held]
    elif shift == "popularity":
        groups = np.asarray(pop_group, dtype=object)
        held = np.flatnonzero(groups == "cold")
        fit = np.flatnonzero((groups == "hot") | (groups == "mid"))
    elif shift == "cold":
        counts = np.asarray(n_train)
        held = np.flatnonzero(counts <= cold_n)
        fit = np.flatnonzero(counts > cold_n)
    else:
        raise ConfigError(unknown_name("shift", shift, SHIFTS))
    for label, items in (("fit", fit), ("held-out", held)):
        if len(items) < MIN_ITEMS:
            hint = f" (raise or lower --cold-n, now {cold_n})" if shift == "cold" else ""
            raise DataError(f"shift '{shift}' leaves {len(items)} {label} items; need at least {MIN_ITEMS}{hint}")
    return np.sort(fit), np.sort(held)


def parse_shifts(names: str | list[str] | tuple[str, ...]) -> list[str]:
    """Validate a comma-separated list (or sequence) of shift names."""
    if isinstance(names, str):
        names = comma_list("--shift", names)
    names = [n.strip().lower() for n in names if n.strip()]
    if not names:
        raise ConfigError("no shift given (e.g. --shift random,popularity)")
    for n in names:
        if n not in SHIFTS:
            raise ConfigError(unknown_name("shift", n, SHIFTS))
    return list(dict.fromkeys(names))
