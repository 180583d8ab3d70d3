"""How much the ranker's fit adds to its start, judged on validation: a pooled 5-fold curve.

    python benchmarks/ranker_cv.py -w WS --seeds 1,2,3 --views fusion,lightgcn,sem,ac --name r4cv \\
        [--start-only] [--weight-decay 1e-4] [--linear] [--refits 5] [--pair lightgcn,sem] [--compare ranker4]

For each seed, runs ``fuse --method ranker`` over the views NAME-sN of WS (what ``complement run`` writes with
``[run] seeds``) with the fitting loop replaced: the users the ranker fits on are split into five disjoint
fifths (one permutation, seed 0); for each fifth a model (initialised with the fifth's index) is fitted on the
other four for up to ``MAX_EPOCHS`` full-batch epochs and scored on the fifth every 10 epochs; the five held-out
curves are pooled over all the users (the ranker's held-out Recall@20 over the candidates). The best point of
the pooled curve (ties: fewer epochs) is the epoch count; ``--refits`` models (seeds 0..N-1) are then fitted on
every user for that many epochs and rank by their mean score. ``--start-only`` fits nothing: the list is the
untrained ranker, i.e. score fusion of the views with the start weights. The candidates, features, start grid
and the writing pass are the implementation's (``complement.fusion.learned``).

Writes the fused view ``{--name}-sN`` into WS (replacing one of that name) and prints the pooled curve, the
chosen epoch count and the share of the (``--pair``) oracle gain from ``fusion_gap`` of it and of the
``--compare`` methods. One torch thread, as the implementation's fit."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import complement
import complement.fusion.learned as learned
from complement import Workspace, diagnose
from complement.device import one_cpu_thread
from complement.fusion.features import Standardiser
from complement.fusion.ranker import LR, MAX_EPOCHS, RankerBag, RankerModel, fitting_users, objective
from complement.fusion.training import EVAL_EVERY, FitReport

FOLDS = 5


def pooled_cv_fit(args: argparse.Namespace):
    def fit(inputs, valid, labels, truth_sizes, weights, fits=1):
        scale = Standardiser(inputs[valid])
        users = fitting_users(valid, labels)
        loss_of, metric_of = objective(inputs, valid, labels, truth_sizes, users)

        def train(rows: np.ndarray, epochs: int, seed: int, hold: np.ndarray | None = None):
            torch.manual_seed(seed)
            model = RankerModel(inputs.shape[2], scale, weights)
            if args.linear:
                for p in model.hidden.parameters():
                    p.requires_grad_(False)
            trained = [p for p in model.parameters() if p.requires_grad]
            optimiser = torch.optim.Adam(trained, lr=LR, weight_decay=args.weight_decay)
            curve = {}
            for epoch in range(epochs + 1):
                if epoch:
                    optimiser.zero_grad()
                    loss_of(model, rows).backward()
                    optimiser.step()
                if hold is not None and epoch % EVAL_EVERY == 0:
                    with torch.no_grad():
                        curve[epoch] = metric_of(model, hold) * len(hold)  # a sum over the fold's users
            return model.eval(), curve

        with one_cpu_thread():
            everyone = np.arange(len(users))
            pooled: dict[int, float] = {}
            max_epochs = 0 if args.start_only else MAX_EPOCHS
            for j, hold in enumerate(np.array_split(np.random.default_rng(0).permutation(len(users)), FOLDS)):
                _, curve = train(np.setdiff1d(everyone, hold), max_epochs, j, np.sort(hold))
                for epoch, total in curve.items():
                    pooled[epoch] = pooled.get(epoch, 0.0) + total / len(users)
            best = max(pooled, key=lambda e: (round(pooled[e], 12), -e))
            print("pooled validation Recall@20:", {e: round(v, 5) for e, v in pooled.items()}, "chosen", best)
            models = [train(everyone, best, seed)[0] for seed in range(args.refits)]
        return (models[0] if len(models) == 1 else RankerBag(models)), [FitReport(epochs=best)]

    return fit


def main() -> None:
    parser = fuse_arguments(__doc__)
    parser.add_argument("--start-only", action="store_true", help="no fit: the ranker's start")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--linear", action="store_true", help="fit the linear part only")
    parser.add_argument("--refits", type=int, default=5)
    args = parser.parse_args()
    if args.refits < 1:
        parser.error("--refits must be at least 1")
    ws = Workspace(args.workspace)
    learned.fit_ranker = pooled_cv_fit(args)  # the only part replaced
    fuse_and_report(ws, args)


def fuse_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The arguments of :func:`fuse_and_report`, shared with the scripts that patch another fit in."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--views", required=True, help="comma-separated view names (without -sN)")
    parser.add_argument("--name", required=True, help="the fused view to write, NAME-sN")
    parser.add_argument("--pair", default="lightgcn,sem", help="the two views whose oracle is the bound")
    parser.add_argument("--compare", default="", help="comma-separated methods to print beside it")
    return parser


def fuse_and_report(ws: Workspace, args: argparse.Namespace) -> None:
    """For each of ``args.seeds``: ``fuse --method ranker`` over ``args.views`` into ``{args.name}-sN`` (with
    whatever fitting the caller patched in), then its ``fusion_gap`` row and those of ``args.compare``."""
    view_a, view_b = args.pair.split(",")
    for seed in (int(s) for s in args.seeds.split(",")):
        name = f"{args.name}-s{seed}"
        if name in ws.parts("topk"):
            ws.delete_part("topk", name)
        started = time.time()
        views = [f"{v}-s{seed}" for v in args.views.split(",")]
        complement.fuse(ws, views, "ranker", name, exclude="train+valid", device="cpu")
        print(f"seed {seed}: fitted {name} in {time.time() - started:.0f} s")
        shown = [name] + [f"{m}-s{seed}" for m in args.compare.split(",") if m]
        rows = diagnose(ws, "fusion_gap", view_a=f"{view_a}-s{seed}", view_b=f"{view_b}-s{seed}", k=20, views=shown)
        for row in rows.to_pylist():
            if row["pop_group"] == "all":
                print(f"  {row['view']}: Recall@20 {row['recall']:.4f}, share {row['share_of_union_at_k_gain']:.3f}")


if __name__ == "__main__":
    main()
