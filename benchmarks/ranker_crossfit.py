"""The ranker fitted on cross-fitted labels as well as its validation users: more lists to learn from where the
validation split is small (ml-100k: ~940 users).

    python benchmarks/ranker_crossfit.py folds -w WS --seed 1 [--folds 5]
    for f in 0 1 2 3 4; do python benchmarks/ranker_crossfit.py train -w WS-fold$f --seed 1; done
    python benchmarks/ranker_crossfit.py fit -w WS --seed 1 --name r4cf \\
        --views fusion,lightgcn,sem,aligned-contrastive [--only-folds] [--fits 5]

``folds`` copies WS (its seeded views ``NAME-sN`` trained by ``complement run`` with ``[run] seeds``) into
WS-fold0 … WS-fold{F-1}. In fold f a random f-th part of every user's train items (numpy seed 1000 + SEED,
items dealt in turn to the folds) becomes the fold's ``valid`` split, the other train items stay ``train``,
and the workspace's real valid and test items become ``test``, which nothing below reads but the per-view
test figure that ``complement train`` prints. ``train`` trains the four views of ``examples/ml-100k.toml``'s
``ranker4`` in a fold workspace (``sem``, ``lightgcn``, ``aligned-contrastive``, ``fusion``; defaults, training
seed SEED, early stopping on the fold's ``valid``). ``fit`` runs ``fuse --method ranker`` over the views
``NAME-sSEED`` of WS with only the fitting data changed: the candidates, features and labels of each fold
workspace (its views of the same names, or ``--fold-views``; its train masked, its held-out part of train
as the truth), computed by the implementation's own candidate pass, are pooled with the validation users'
(``--only-folds``: the folds' alone); the start weights, the fit (``--fits``), the candidates written and the
fill are the implementation's. Writes the fused view ``NAME-sSEED`` into WS and prints each fit's epochs and
held-out curve (start → best). One torch thread, as the implementation's fit. Used for docs/fusion.md's
"A bag of dual-branch models, and cross-fitted labels for the ranker" rows."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

import complement
import complement.fusion.learned as learned
from complement import Workspace
from complement.device import one_cpu_thread
from complement.fusion.features import candidate_blocks
from complement.fusion.kernels import SeenMask, truth_sizes
from complement.fusion.ranker import candidate_inputs, fit_ranker
from complement.fusion.training import FitReport

#: the views ``train`` writes in a fold workspace: (model, view)
FOLD_MODELS = (
    ("semantic", "sem"),
    ("lightgcn", "lightgcn"),
    ("aligned-contrastive", "aligned-contrastive"),
    ("fusion", "fusion"),
)


def make_folds(workspace: str, seed: int, n_folds: int) -> None:
    table = Workspace(workspace).read_table("interactions")
    split = np.asarray(table.column("split").to_pylist(), dtype=object)
    users = table.column("user_idx").to_numpy()
    rng = np.random.default_rng(1000 + seed)
    fold = np.full(len(split), -1)
    for user in np.unique(users):
        rows = np.flatnonzero((users == user) & (split == "train"))
        fold[rng.permutation(rows)] = np.arange(len(rows)) % n_folds
    for f in range(n_folds):
        target = f"{workspace.rstrip('/')}-fold{f}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(workspace, target)
        new = np.where(split == "train", np.where(fold == f, "valid", "train"), "test")
        column = table.schema.get_field_index("split")
        Workspace(target).write_table("interactions", table.set_column(column, "split", pa.array(new.tolist())))
        print(target, {s: int((new == s).sum()) for s in ("train", "valid", "test")})


def train_fold(workspace: str, seed: int) -> None:
    for model, view in FOLD_MODELS:
        result = complement.train(workspace, model, view, seed=seed, exclude="train")
        print(f"{workspace}: {view} {result.details['epochs_run']} epochs, best {result.details['best_epoch']}")


def fitting_data(ws: Workspace, views: list[str]) -> tuple[torch.Tensor, ...]:
    """The ranker's fitting pass over ``ws``'s views: inputs, candidates, labels, truth sizes."""
    cpu = torch.device("cpu")
    vectors = [tuple(torch.from_numpy(ws.read_vectors(v, entity)[1]) for entity in ("user", "item")) for v in views]
    n_users, n_items = vectors[0][0].shape[0], vectors[0][1].shape[0]
    history = learned.history_of(ws, n_users, n_items)
    valid = SeenMask(n_users, n_items, ws.interaction_indices(("valid",)))
    static = torch.from_numpy(history.static_user_features().astype(np.float32))
    features, candidates, labels, sizes, users, margins = [], [], [], [], [], []
    for block in candidate_blocks(
        vectors, history.train, history.item_popularity, depth=learned.RANK_DEPTH, device=cpu, history=history.train
    ):
        truth = valid.block(block.start, block.stop, cpu)
        size = truth_sizes(truth)
        keep = size > 0
        users.append(torch.arange(block.start, block.stop)[keep])
        margins.append(block.margins[keep])
        features.append(block.features[keep])
        candidates.append(block.valid[keep])
        labels.append(truth.gather(1, block.items)[keep])
        sizes.append(size[keep])
    user_features = torch.cat([static[torch.cat(users)], torch.cat(margins)], dim=1)
    inputs = candidate_inputs(torch.cat(features), user_features)
    return inputs, torch.cat(candidates), torch.cat(labels), torch.cat(sizes)


def fit(args: argparse.Namespace) -> None:
    views = args.views.split(",")
    folds = sorted(Path(args.workspace.rstrip("/")).parent.glob(Path(args.workspace.rstrip("/")).name + "-fold*"))
    if not folds:
        raise SystemExit(f"no fold workspaces {args.workspace}-fold*: run `folds` and `train` first")
    with one_cpu_thread():
        extra = [fitting_data(Workspace(f), (args.fold_views or args.views).split(",")) for f in folds]
    print("fitting users per fold:", [len(e[0]) for e in extra])

    def pooled(inputs, valid, labels, sizes, weights, fits=1) -> tuple[torch.nn.Module, list[FitReport]]:
        parts = ([] if args.only_folds else [(inputs, valid, labels, sizes)]) + extra
        model, reports = fit_ranker(*(torch.cat([p[i] for p in parts]) for i in range(4)), weights, fits=fits)
        curves = [(round(r.holdout_metric[0], 4), round(max(r.holdout_metric.values()), 4)) for r in reports]
        print(
            f"fitted on {sum(len(p[0]) for p in parts)} user lists; epochs {[r.epochs for r in reports]}, "
            f"held-out Recall@20 (start, best) {curves}"
        )
        return model, reports

    learned.fit_ranker = pooled  # the only part replaced
    ws = Workspace(args.workspace)
    name = f"{args.name}-s{args.seed}"
    if name in ws.parts("topk"):
        ws.delete_part("topk", name)
    seeded = [f"{v}-s{args.seed}" for v in views]
    complement.fuse(ws, seeded, "ranker", name, exclude="train+valid", device="cpu", fits=args.fits)
    print(f"wrote {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("folds", "train", "fit"):
        p = sub.add_parser(command)
        p.add_argument("-w", "--workspace", required=True)
        p.add_argument("--seed", type=int, required=True)
        if command == "folds":
            p.add_argument("--folds", type=int, default=5)
        if command == "fit":
            p.add_argument("--name", required=True, help="the fused view to write, NAME-sSEED")
            p.add_argument("--views", required=True, help="WS's views, without -sN")
            p.add_argument("--fold-views", help="the fold workspaces' views in the same order (default: --views)")
            p.add_argument("--only-folds", action="store_true", help="fit on the folds' lists alone")
            p.add_argument("--fits", type=int, default=5)
    args = parser.parse_args()
    if args.command == "folds":
        if args.folds < 2:
            parser.error("--folds must be at least 2")
        make_folds(args.workspace, args.seed, args.folds)
    elif args.command == "train":
        train_fold(args.workspace, args.seed)
    else:
        fit(args)


if __name__ == "__main__":
    main()
