"""How the ranker's fits should be combined, judged on validation: a nested 5-fold comparison.

    python benchmarks/ranker_bag_cv.py -w WS --seeds 1,2,3 --views fbag,lightgcn,sem,aligned-contrastive \\
        --name r4bagz --aggregate z [--fits 5] [--pair lightgcn,sem] [--compare r4bag]

``fuse --method ranker --fits N`` fits N rankers, each choosing its epoch count on its own held-out fifth of the
validation users, and ranks by the mean of their raw scores. A fit that stopped at 0 epochs scores on score
fusion's scale; one trained for 100 epochs has larger logits (up to about three times the per-user spread on
ml-100k), so the raw mean leans on that fit. This script compares ways of combining the fits on **validation** alone:

- ``mean``: the raw mean (the implementation);
- ``z``: each fit's scores standardised per user over the user's candidates, then averaged;
- ``rank``: each fit's ranks of the user's candidates averaged (Borda).

The users the ranker fits on are split into five disjoint outer fifths (one permutation, seed 0). For each, the
N fits are made exactly as the implementation makes them (``fit_with_holdout``, seeds 0..N-1, inner held-out
fifths) on the other four outer fifths, and every rule ranks the outer fifth; each rule's Recall@20 over the
candidates is pooled over all users. Then the N fits are made on every user, as ``fuse`` does, and the rule of
``--aggregate`` writes the fused view ``{--name}-sN`` into WS (replacing one of that name). The candidates,
features, start grid and the writing pass are the implementation's (``complement.fusion.learned``); test is
read only by the ``fusion_gap`` rows printed at the end. One torch thread, as the implementation's fit."""

from __future__ import annotations

import argparse

import numpy as np
import torch
from ranker_cv import fuse_and_report, fuse_arguments

import complement.fusion.learned as learned
from complement import Workspace
from complement.device import one_cpu_thread
from complement.fusion.features import Standardiser
from complement.fusion.ranker import (
    LR,
    MAX_EPOCHS,
    RECALL_K,
    WEIGHT_DECAY,
    RankerModel,
    fitting_users,
    objective,
)
from complement.fusion.training import fit_with_holdout

FOLDS = 5
RULES = ("mean", "z", "rank")


def user_moments(scores: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each fit's per-user mean and standard deviation over the user's valid candidates, ``[fits, U, 1]`` each."""
    m = valid.to(scores.dtype)
    n = m.sum(dim=1, keepdim=True).clamp(min=1)
    mu = (scores * m).sum(dim=2, keepdim=True) / n
    return mu, ((((scores - mu) * m) ** 2).sum(dim=2, keepdim=True) / n).sqrt()


def combine(scores: torch.Tensor, valid: torch.Tensor, rule: str) -> torch.Tensor:
    """``scores [fits, U, C]`` -> ``[U, C]`` by ``rule`` over each user's valid candidates (-inf elsewhere)."""
    if rule == "mean":
        out = scores.mean(dim=0)
    elif rule == "z":
        mu, sd = user_moments(scores, valid)
        out = ((scores - mu) / sd.clamp(min=1e-12)).mean(dim=0)
    elif rule == "rank":
        masked = scores.masked_fill(~valid, float("-inf"))
        # rank 0 = best; ties by the lower candidate position (stable sort)
        order = torch.sort(masked, dim=2, descending=True, stable=True).indices
        ranks = torch.empty_like(order).scatter_(2, order, torch.arange(order.shape[2]).expand_as(order))
        out = -ranks.to(scores.dtype).mean(dim=0)
    else:
        raise ValueError(rule)
    return out.masked_fill(~valid, float("-inf"))


class CombinedBag(torch.nn.Module):
    """Several fitted rankers combined by ``rule``; needs the candidates' mask (see ``masked_logits`` below)."""

    def __init__(self, models: list[torch.nn.Module], rule: str):
        super().__init__()
        self.models = torch.nn.ModuleList(models)
        self.rule = rule

    def scores(self, rows: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        return combine(torch.stack([m(rows) for m in self.models]), valid, self.rule)


def masked_logits(model: torch.nn.Module, inputs: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    if isinstance(model, CombinedBag):
        return model.scores(inputs, valid)
    return model(inputs).masked_fill(~valid, float("-inf"))


def recall_of(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, sizes: torch.Tensor) -> np.ndarray:
    top = torch.topk(logits, min(RECALL_K, logits.shape[1]), dim=1).indices
    hits = (labels & valid).gather(1, top).sum(dim=1).to(torch.float64)
    return (hits / sizes).numpy()


def nested_fit(args: argparse.Namespace):
    def fit(inputs, valid, labels, truth_sizes, weights, fits=1):
        fits = args.fits
        scale = Standardiser(inputs[valid])
        users = fitting_users(valid, labels)

        def make_fits(sub: np.ndarray) -> tuple[list[torch.nn.Module], list[int]]:
            loss_of, metric_of = objective(inputs, valid, labels, truth_sizes, users[sub])
            models, epochs = [], []
            for seed in range(fits):
                model, report = fit_with_holdout(
                    lambda: RankerModel(inputs.shape[2], scale, weights),
                    loss_of,
                    metric_of,
                    len(sub),
                    max_epochs=MAX_EPOCHS,
                    lr=LR,
                    weight_decay=WEIGHT_DECAY,
                    seed=seed,
                )
                models.append(model)
                epochs.append(report.epochs)
            return models, epochs

        with one_cpu_thread():
            pooled = {rule: np.zeros(len(users)) for rule in (*RULES, "start")}
            spread = []
            everyone = np.arange(len(users))
            for hold in np.array_split(np.random.default_rng(0).permutation(len(users)), FOLDS):
                hold = np.sort(hold)
                models, epochs = make_fits(np.setdiff1d(everyone, hold))
                idx = torch.from_numpy(users[hold])
                x, v, lab, sz = inputs[idx], valid[idx], labels[idx], truth_sizes[idx]
                with torch.no_grad():
                    stacked = torch.stack([m(x) for m in models])
                    start = RankerModel(inputs.shape[2], scale, weights)(x)
                spread.append((epochs, user_moments(stacked, v)[1].mean(dim=(1, 2)).tolist()))
                for rule in RULES:
                    pooled[rule][hold] = recall_of(combine(stacked, v, rule), lab, v, sz)
                pooled["start"][hold] = recall_of(start.masked_fill(~v, float("-inf")), lab, v, sz)
            for epochs, sds in spread:
                print("  outer fold: epochs", epochs, "mean per-user score sd", [round(s, 2) for s in sds])
            print(
                f"  pooled validation Recall@{RECALL_K} over {len(users)} users (nested, {fits} fits):",
                {rule: round(float(r.mean()), 5) for rule, r in pooled.items()},
            )
            models, epochs = make_fits(everyone)
            print("  fits on every user: epochs", epochs)
        return CombinedBag(models, args.aggregate), []

    return fit


def main() -> None:
    parser = fuse_arguments(__doc__)
    parser.add_argument("--aggregate", choices=RULES, default="z", help="the rule that writes the view")
    parser.add_argument("--fits", type=int, default=5)
    args = parser.parse_args()
    if args.fits < 1:
        parser.error("--fits must be at least 1")
    ws = Workspace(args.workspace)
    learned.fit_ranker = nested_fit(args)  # the fitting and the combining rule are replaced
    learned.masked_logits = masked_logits
    fuse_and_report(ws, args)


if __name__ == "__main__":
    main()
