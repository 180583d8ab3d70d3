"""Gradient-boosted rank fusion (LambdaMART) in place of the ranker's small network, judged on validation.

    pip install lightgbm
    python benchmarks/ranker_lgbm.py -w WS --seeds 1 --views fbag,lightgcn,sem,aligned-contrastive \\
        --name r4gbm [--objective lambdarank] [--leaves 7] [--lr 0.05] [--max-rounds 400] [--bags 5] [--compare r4bag]

``fuse --method ranker`` with its fitting loop replaced by LightGBM over the same candidates and features
(``complement.fusion.learned``: every view's z-score and log rank, top-20 flags, popularity, history
similarities, the user's features). Boosting starts from the ranker's start, score fusion with the tuned
weights (``init_score``), so 0 rounds ranks exactly like the untrained ranker. The labels are the validation
items among the user's candidates (train masked), one query per user; test is read only by the ``fusion_gap``
rows printed at the end.

The number of rounds is chosen on **validation**: the users the ranker fits on are split into five disjoint
fifths (one permutation, seed 0: the folds of ``ranker_bag_cv.py``), ``--bags`` boosters (seeds 0..N-1, row
and feature subsampling) are fitted on four fifths and the fifth left out is ranked by their mean score every
10 rounds; the pooled held-out Recall@20 over the candidates (over each user's validation items) chooses the
round count (ties: fewer). The boosters are then refitted on every user for that many rounds and write the
fused view ``{--name}-sN`` (replacing one of that name). One thread."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ranker_cv import fuse_and_report, fuse_arguments

import complement.fusion.learned as learned
from complement import Workspace
from complement.fusion.ranker import RECALL_K, fitting_users
from complement.fusion.training import FitReport

FOLDS = 5
EVERY = 10


class Boosted(torch.nn.Module):
    """The start score plus the boosters' mean prediction after ``rounds`` rounds."""

    def __init__(self, boosters: list, rounds: int, weights: tuple[float, ...]):
        super().__init__()
        self.boosters, self.rounds, self.weights = boosters, rounds, np.asarray(weights, dtype=np.float64)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        x = rows.detach().cpu().numpy().astype(np.float64)
        flat = x.reshape(-1, x.shape[-1])
        score = flat[:, : len(self.weights)] @ self.weights
        if self.rounds > 0:
            score = score + np.mean([b.predict(flat, num_iteration=self.rounds) for b in self.boosters], axis=0)
        return torch.from_numpy(score.reshape(x.shape[:-1]))


def boosted_fit(args: argparse.Namespace):
    import lightgbm as lgb

    def fit(inputs, valid, labels, truth_sizes, weights, fits=1):
        users = fitting_users(valid, labels)
        X = inputs.cpu().numpy().astype(np.float64)
        V = valid.cpu().numpy()
        L = labels.cpu().numpy() & V
        S = truth_sizes.cpu().numpy().astype(np.float64)
        w = np.asarray(weights, dtype=np.float64)
        start = X[:, :, : len(w)] @ w

        params = {
            "objective": args.objective,
            "num_leaves": args.leaves,
            "learning_rate": args.lr,
            "min_data_in_leaf": args.min_leaf,
            "lambda_l2": args.l2,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "num_threads": 1,
            "verbose": -1,
            "deterministic": True,
        }
        if args.objective == "lambdarank":
            params["lambdarank_truncation_level"] = 2 * RECALL_K

        def rows_of(us: np.ndarray):
            mask = V[us]
            return X[us][mask], L[us][mask].astype(np.float64), start[us][mask], mask.sum(axis=1)

        def boosters(us: np.ndarray, rounds: int) -> list:
            x, y, init, group = rows_of(us)
            out = []
            for seed in range(args.bags):
                data = lgb.Dataset(x, y, group=group, init_score=init, free_raw_data=False)
                out.append(lgb.train({**params, "seed": seed}, data, num_boost_round=rounds))
            return out

        def recall(us: np.ndarray, score: np.ndarray) -> np.ndarray:
            s = np.where(V[us], score, -np.inf)
            top = np.argsort(-s, axis=1, kind="stable")[:, :RECALL_K]
            return np.take_along_axis(L[us], top, axis=1).sum(axis=1) / S[us]

        checkpoints = list(range(0, args.max_rounds + 1, EVERY))
        pooled = np.zeros((len(checkpoints), len(users)))
        everyone = np.arange(len(users))
        for hold in np.array_split(np.random.default_rng(0).permutation(len(users)), FOLDS):
            hold = np.sort(hold)
            fitted = boosters(users[np.setdiff1d(everyone, hold)], args.max_rounds)
            us = users[hold]
            flat = X[us].reshape(-1, X.shape[2])
            for j, r in enumerate(checkpoints):
                extra = 0.0
                if r > 0:
                    extra = np.mean([b.predict(flat, num_iteration=r) for b in fitted], axis=0).reshape(len(us), -1)
                pooled[j, hold] = recall(us, start[us] + extra)
        curve = pooled.mean(axis=1)
        best = int(np.argmax(curve))
        rounds = checkpoints[best]
        print(
            f"  pooled validation Recall@{RECALL_K} over {len(users)} users (nested): start {curve[0]:.5f}, "
            f"best {curve[best]:.5f} at {rounds} rounds; curve",
            {r: round(float(c), 5) for r, c in zip(checkpoints, curve, strict=True) if r % 50 == 0},
        )
        model = Boosted(boosters(users, rounds) if rounds > 0 else [], rounds, weights)
        report = FitReport(epochs=rounds, holdout_metric={r: float(c) for r, c in zip(checkpoints, curve, strict=True)})
        return model, [report]

    return fit


def main() -> None:
    parser = fuse_arguments(__doc__)
    parser.add_argument("--objective", default="lambdarank", choices=("lambdarank", "rank_xendcg"))
    parser.add_argument("--leaves", type=int, default=7)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--min-leaf", type=int, default=50)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--max-rounds", type=int, default=400)
    parser.add_argument("--bags", type=int, default=5)
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    learned.fit_ranker = boosted_fit(args)  # the only part replaced
    fuse_and_report(ws, args)


if __name__ == "__main__":
    main()
