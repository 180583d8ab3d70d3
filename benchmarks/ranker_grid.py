# ruff: noqa: I001  (complement must be imported before torch)
"""The ranker's start-weight grid (three views or more): every column of every user against the pruned
columns of ``grid_hits``, in one process, on the same candidate blocks.

    python benchmarks/ranker_grid.py [--views 3] [--users 2000] [--items 16859] [--dim 64] [--rounds 3]
    python benchmarks/ranker_grid.py -w WS --view-names fusion,lightgcn,sem [--users 2000]

Without ``-w``: Gaussian user and item vectors of the given shape (Games' item count by default), 30 random
masked items and 2 random validation items per user. With ``-w``: the named views' vectors and the
workspace's train and valid splits, for its first ``--users`` users. The candidate blocks are built once
(``candidate_blocks``, the ranker's fitting pass); then, round by round, ``full`` scores each weight vector
of the grid on the whole row (a weighted sum of the z-scores, masked, and a stable top 20) and ``pruned``
calls ``grid_hits`` (the code as it is). Prints the seconds of each arm per round (process CPU and wall),
the median ratio, and whether the validation hits of both arms are equal for every user and weight."""

from __future__ import annotations

import argparse
import statistics
import time

import complement  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads OpenMP)
import numpy as np
import torch

from complement.fusion.features import candidate_blocks
from complement.fusion.kernels import SeenMask, topk_rows
from complement.fusion.learned import RECALL_K, grid_hits, weight_grid, weighted_sum
from complement.workspace import Workspace


def full_grid_hits(block, truth: torch.Tensor, grid) -> torch.Tensor:
    """Every column of every user: the grid scoring before pruning."""
    return torch.stack(
        [
            truth.gather(1, topk_rows(weighted_sum(block.z, w).masked_fill_(block.mask, float("-inf")), RECALL_K)[0])
            .sum(dim=1)
            .to(torch.float64)
            for w in grid
        ],
        dim=1,
    )


def gaussian_inputs(args) -> tuple[list, SeenMask, SeenMask, np.ndarray]:
    rng = np.random.default_rng(0)
    views = [
        (
            torch.from_numpy(rng.normal(size=(args.users, args.dim)).astype(np.float32)),
            torch.from_numpy(rng.normal(size=(args.items, args.dim)).astype(np.float32)),
        )
        for _ in range(args.views)
    ]

    def random_pairs(per_user: int) -> tuple[np.ndarray, np.ndarray]:
        users = np.repeat(np.arange(args.users), per_user)
        items = np.concatenate([rng.choice(args.items, per_user, replace=False) for _ in range(args.users)])
        return users, items

    train = SeenMask(args.users, args.items, random_pairs(30))
    valid = SeenMask(args.users, args.items, random_pairs(2))
    return views, train, valid, np.bincount(train.items, minlength=args.items)


def workspace_inputs(args) -> tuple[list, SeenMask, SeenMask, np.ndarray]:
    ws = Workspace(args.workspace)
    views = []
    for name in args.view_names.split(","):
        _, users = ws.read_vectors(name, "user")
        _, items = ws.read_vectors(name, "item")
        views.append((torch.from_numpy(users[: args.users]), torch.from_numpy(items)))
    n_items = views[0][1].shape[0]

    def first_users(split: str) -> tuple[np.ndarray, np.ndarray]:
        users, items = ws.interaction_indices((split,))
        keep = users < args.users
        return users[keep], items[keep]

    train = SeenMask(args.users, n_items, first_users("train"))
    popularity = np.bincount(ws.interaction_indices(("train",))[1], minlength=n_items)
    return views, train, SeenMask(args.users, n_items, first_users("valid")), popularity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace")
    parser.add_argument("--view-names", default="fusion,lightgcn,sem")
    parser.add_argument("--views", type=int, default=3, help="Gaussian views (without -w)")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=16859)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    views, train, valid, popularity = workspace_inputs(args) if args.workspace else gaussian_inputs(args)
    grid = weight_grid(len(views))
    cpu = torch.device("cpu")
    blocks = list(candidate_blocks(views, train, popularity, depth=20, device=cpu, history=train))
    truths = [valid.block(b.start, b.stop, cpu) for b in blocks]
    print(
        f"{len(views)} views, {args.users} users in {len(blocks)} blocks, {views[0][1].shape[0]} items, "
        f"{len(grid)} weight vectors, {torch.get_num_threads()} torch threads",
        flush=True,
    )
    seconds: dict[str, list[tuple[float, float]]] = {"full": [], "pruned": []}
    results: dict[str, list[torch.Tensor]] = {}
    for round_ in range(args.rounds):
        for arm, score in (("full", full_grid_hits), ("pruned", grid_hits)):
            wall, process = time.perf_counter(), time.process_time()
            results[arm] = [score(block, truth, grid) for block, truth in zip(blocks, truths, strict=True)]
            seconds[arm].append((time.process_time() - process, time.perf_counter() - wall))
            print(
                f"round {round_ + 1} {arm}: cpu {seconds[arm][-1][0]:.2f} s, wall {seconds[arm][-1][1]:.2f} s",
                flush=True,
            )
    ratio = statistics.median(f[0] / p[0] for f, p in zip(seconds["full"], seconds["pruned"], strict=True))
    same = all(torch.equal(a, b) for a, b in zip(results["full"], results["pruned"], strict=True))
    print(f"full / pruned, median of the rounds' process CPU: {ratio:.2f}x; hits identical: {same}")


if __name__ == "__main__":
    main()
