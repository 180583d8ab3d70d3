"""How the ranker's start weights should be chosen, judged on validation: a nested check of the start grid.

    python benchmarks/ranker_start_cv.py -w WS --seeds 1,2,3 --views fbag,lightgcn,sem,aligned-contrastive \\
        --name r4sm [--steps 10] [--radius 0.2] [--repeats 20] [--start smooth] [--grid-only] [--compare r4bag]

With three or more views ``fuse --method ranker`` starts from score fusion of the views with the weight vector
of the start grid (tenths summing to 1 for three or four views) that has the best validation Recall@20 over the
users it fits on, and fills the list past the candidates in that order. With 286 vectors and under a thousand
validation users (ml-100k) that choice is noisy. This script records the grid's per-user validation recall (the
implementation's own matrix, ``complement.fusion.learned``) and compares rules for choosing from it, nested:
the users are split into five folds (``--repeats`` permutations, seeds 0..R-1); each rule chooses on four folds
and is scored on the fifth; the held-out recalls are pooled over the users and averaged over the repeats.

- ``best``: the implementation (the best mean; ties nearest equal weights, then the smaller first weight);
- ``smooth``: the best mean over each vector's grid neighbours within L1 distance ``--radius`` (itself
  included), ties as ``best``;
- ``equal``: the vector nearest equal weights, chosen from nothing;
- ``best-tenths`` (with ``--steps`` a multiple of 10 above 10): ``best`` restricted to the vectors of tenths.

``--steps S`` replaces the grid by the multiples of 1/S summing to 1. ``--grid-only`` stops after the check, leaving
the workspace as it was (the lock folder ``fuse`` takes for the view it never writes is removed again); else
the ranker is fitted (five fits, the raw mean, as ``fuse --fits 5``; with the nested check of its fits by
``ranker_bag_cv.py``) from the start the rule ``--start`` chooses on all the users, the view ``{--name}-sN`` is
written into WS (replacing one of that name), and its ``fusion_gap`` rows are printed. Test is read only by those."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np
import ranker_bag_cv
from ranker_cv import fuse_and_report, fuse_arguments

import complement
import complement.fusion.learned as learned
from complement import Workspace, catalog
from complement.errors import WorkspaceError

FOLDS = 5
best_weight = learned._best_weight  # the implementation's rule, kept before it is patched


class GridChecked(Exception):
    """Raised after the check when ``--grid-only``: nothing is fitted or written."""


def smoothed_means(recall: np.ndarray, grid: list[tuple[float, ...]], radius: float) -> np.ndarray:
    g = np.asarray(grid)
    near = np.abs(g[:, None, :] - g[None, :, :]).sum(axis=2) <= radius + 1e-9
    return (near * recall.mean(axis=0)[None, :]).sum(axis=1) / near.sum(axis=1)


def rules(grid: list[tuple[float, ...]], radius: float, steps: int):
    n = len(grid[0])
    equal = int(np.argmin([sum((w - 1.0 / n) ** 2 for w in v) for v in grid]))
    chosen = {
        "best": lambda r: best_weight(r, grid),
        "smooth": lambda r: best_weight(smoothed_means(r, grid, radius)[None, :], grid),
        "equal": lambda r: equal,
    }
    if steps > 10 and steps % 10 == 0:
        tenths = [j for j, v in enumerate(grid) if all(abs(w * 10 - round(w * 10)) < 1e-9 for w in v)]
        sub = [grid[j] for j in tenths]
        chosen["best-tenths"] = lambda r: tenths[best_weight(r[:, tenths], sub)]
    return chosen


def checked_choice(args: argparse.Namespace):
    def choose(recall: np.ndarray, grid: list[tuple[float, ...]]) -> int:
        if len(grid[0]) == 2:
            raise SystemExit("ranker_start_cv.py is for three views or more")
        chosen = rules(grid, args.radius, args.steps)
        users = recall.shape[0]
        print(f"  start grid: {len(grid)} weight vectors, {users} users")
        for name, rule in chosen.items():
            j = rule(recall)
            weights = tuple(round(w, 3) for w in grid[j])
            print(f"  {name:12s} on all users: {weights}, in-sample {recall[:, j].mean():.5f}")
        nested = {name: [] for name in chosen}
        for repeat in range(args.repeats):
            pooled = {name: np.zeros(users) for name in chosen}
            for hold in np.array_split(np.random.default_rng(repeat).permutation(users), FOLDS):
                fit = np.setdiff1d(np.arange(users), hold)
                for name, rule in chosen.items():
                    pooled[name][hold] = recall[hold, rule(recall[fit])]
            for name in chosen:
                nested[name].append(pooled[name].mean())
        for name, values in nested.items():
            print(
                f"  {name:12s} nested ({args.repeats} x {FOLDS} folds): {np.mean(values):.5f}"
                f" (repeats {np.min(values):.5f} to {np.max(values):.5f})"
            )
        if args.grid_only:
            raise GridChecked
        j = chosen[args.start](recall)
        print(f"  the ranker starts from {tuple(round(w, 3) for w in grid[j])} ({args.start})")
        return j

    return choose


def drop_lock(lock: Path, view: str) -> None:
    """Remove the lock folder ``fuse`` made for ``view`` (``tables/.locks/view-NAME``, taken before the fit) when
    ``--grid-only`` stopped it before anything was written: the view never exists, so the folder is only clutter.
    It goes under its own lock, so one another command holds now stays."""
    with contextlib.suppress(WorkspaceError, OSError), catalog.flock(lock, blocking=False, what=f"view '{view}'"):
        lock.rmdir()


def main() -> None:
    parser = fuse_arguments(__doc__)
    parser.add_argument("--steps", type=int, default=0, help="the grid's step 1/S (default: the implementation's)")
    parser.add_argument("--radius", type=float, default=0.2, help="the smoothing radius (L1)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--start", choices=("best", "smooth", "equal", "best-tenths"), default="smooth")
    parser.add_argument("--grid-only", action="store_true", help="the check only; nothing is fitted or written")
    args = parser.parse_args()
    if args.steps < 0 or args.repeats < 1 or args.radius < 0:
        parser.error("--steps, --repeats and --radius must be non-negative (--repeats at least 1)")
    if args.start == "best-tenths" and not (args.steps > 10 and args.steps % 10 == 0):
        parser.error("--start best-tenths needs --steps a multiple of 10 above 10")
    ws = Workspace(args.workspace)
    if args.steps:
        steps = args.steps
        learned.weight_grid = lambda n: [tuple(c / steps for c in combo) for combo in learned._compositions(steps, n)]
    learned._best_weight = checked_choice(args)
    if args.grid_only:
        for seed in (int(s) for s in args.seeds.split(",")):
            print(f"seed {seed}:")
            name = f"{args.name}-s{seed}"
            lock = ws.tables_dir / catalog.LOCKS_DIR / f"view-{name}"
            had_lock = lock.exists()
            try:
                views = [f"{v}-s{seed}" for v in args.views.split(",")]
                complement.fuse(ws, views, "ranker", name, exclude="train+valid", device="cpu")
            except GridChecked:
                if not had_lock:
                    drop_lock(lock, name)
                continue
        return
    # the ranker's five fits as `fuse --fits 5` makes them (raw mean), with ranker_bag_cv.py's nested check
    args.fits, args.aggregate = 5, "mean"
    learned.fit_ranker = ranker_bag_cv.nested_fit(args)
    learned.masked_logits = ranker_bag_cv.masked_logits
    fuse_and_report(ws, args)


if __name__ == "__main__":
    main()
