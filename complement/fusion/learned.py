"""Driver of the learned fusions ``gate`` (:mod:`.gating`) and ``ranker`` (:mod:`.ranker`).

Two passes over user chunks. The fitting pass masks the train items and takes the valid split as the
truth: per user, the validation Recall@20 of score fusion for every grid weight (the gate's targets
and the starting weight of both models), and for the ranker the candidates with their features and
labels. The writing pass masks the ``exclude`` splits (train + valid for a test-ready view) and ranks
with the fitted model. The test split is never read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..workspace import Workspace
from .features import CandidateBlock, History, candidate_blocks
from .gating import fit_gate
from .kernels import SeenMask, topk_rows, truth_sizes
from .ranker import candidate_inputs, fit_ranker, masked_logits
from .score import WEIGHT_GRID, Combiner

LEARNED_METHODS = ("gate", "ranker")
RECALL_K = 20
#: the ranker re-orders the union of the views' top-RANK_DEPTH lists (where union_at_k's hits are);
#: the places after those candidates are filled in score fusion's order
RANK_DEPTH = 20


@dataclass
class LearnedResult:
    indices: np.ndarray
    scores: np.ndarray
    metrics: dict[str, Any] = field(default_factory=dict)


def history_of(ws: Workspace, n_users: int, n_items: int) -> History:
    """Train interactions, item popularity and which items have text."""
    train_pairs = ws.interaction_indices(("train",))
    popularity = np.bincount(train_pairs[1], minlength=n_items)
    has_text = (
        ws.query("SELECT coalesce(length(trim(text)), 0) > 0 FROM items ORDER BY item_idx")
        .column(0)
        .to_numpy(zero_copy_only=False)
    )
    return History(SeenMask(n_users, n_items, train_pairs), popularity, np.asarray(has_text, dtype=bool))


#: at most this many weight vectors are scored for the start of a ranker over three views or more
MAX_START_WEIGHTS = 300
#: the steps tried for those vectors, finest first: the first whose grid fits MAX_START_WEIGHTS is used
START_WEIGHT_STEPS = (10, 5, 4, 2, 1)


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every tuple of ``parts`` non-negative integers summing to ``total``, in lexicographic order."""
    if parts == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total + 1) for rest in _compositions(total - first, parts - 1)]


def weight_grid(n_views: int) -> list[tuple[float, ...]]:
    """Score fusion's weights for ``n_views`` views: for two, ``(w, 1 - w)`` for w in ``WEIGHT_GRID``;
    for more, every vector of multiples of 0.1 that sums to 1 (66 for three views, 286 for four). Where
    that grid would exceed ``MAX_START_WEIGHTS`` vectors (five views or more), the multiples of the finest
    of 0.2, 0.25, 0.5 and 1 that keeps it within (126 vectors of fifths for five views)."""
    if n_views == 2:
        return [(w, 1.0 - w) for w in WEIGHT_GRID]
    steps = next(
        (s for s in START_WEIGHT_STEPS if math.comb(s + n_views - 1, n_views - 1) <= MAX_START_WEIGHTS),
        START_WEIGHT_STEPS[-1],
    )
    return [tuple(c / steps for c in combo) for combo in _compositions(steps, n_views)]


def _best_weight(recall: np.ndarray, grid: list[tuple[float, ...]]) -> int:
    """Index of the grid weights with the best mean recall (ties: nearest equal weights, then the smaller
    weight of the first view; for two views: nearest 0.5, then the smaller)."""
    means = recall.mean(axis=0)
    n = len(grid[0])
    return max(
        range(len(grid)),
        key=lambda j: (
            round(means[j], 12),
            -round(sum((w - 1.0 / n) ** 2 for w in grid[j]), 12),
            tuple(-w for w in grid[j]),
        ),
    )


class Fused:
    """Score fusion of a block's views with any grid weights, masked entries ``-inf``: for two views
    :class:`Combiner` (``B + w (A - B)``, the end points exact), for more a weighted sum."""

    def __init__(self, block: CandidateBlock):
        self.block = block
        if len(block.z) == 2:
            self.pair = Combiner(block.z_a, block.z_b, block.mask)

    def __call__(self, weights: tuple[float, ...]) -> torch.Tensor:
        if len(self.block.z) == 2:
            return self.pair(weights[0])
        return weighted_sum(self.block.z, weights).masked_fill_(self.block.mask, float("-inf"))


def weighted_sum(zs: list[torch.Tensor], weights: tuple[float, ...]) -> torch.Tensor:
    """``sum_v w_v z_v`` as separate elementwise products and sums in view order: each entry's value
    depends on that entry alone, so a gathered subset of the columns gets the same bits."""
    total = zs[0] * weights[0]
    for z, weight in zip(zs[1:], weights[1:], strict=True):
        total += z * weight
    return total


#: users per group when scoring the grid of three views or more: a group's columns are its widest user's
GRID_GROUP = 128


def grid_hits(block: CandidateBlock, truth: torch.Tensor, grid: list[tuple[float, ...]]) -> torch.Tensor:
    """``[chunk, len(grid)]``: the validation items in score fusion's top-``RECALL_K`` for each grid weight.

    Two views score every column (eleven weights). For more, a user's fused scores are computed only on the
    columns that can reach some weight's top ``RECALL_K`` (:func:`reach`), in groups of users of similar
    width; a stable top-k of those columns, kept in item order, is exactly the full row's (the same values,
    the same ties by lower item index)."""
    if len(block.z) == 2:
        fused = Fused(block)
        return torch.stack(
            [truth.gather(1, topk_rows(fused(w), RECALL_K)[0]).sum(dim=1).to(torch.float64) for w in grid], dim=1
        )
    best, threshold = reach(block, grid, RECALL_K)
    n_items = best.shape[1]
    widths = (best >= threshold.unsqueeze(1)).sum(dim=1)
    hits = torch.empty((best.shape[0], len(grid)), dtype=torch.float64, device=best.device)
    for group in torch.argsort(widths).split(GRID_GROUP):
        width = min(n_items, max(RECALL_K, int(widths[group].max())))
        if width == n_items:
            columns = torch.arange(n_items, device=best.device).expand(len(group), -1)
        else:
            columns = torch.sort(torch.topk(best[group], width, dim=1).indices, dim=1).values
        zs = [z[group].gather(1, columns) for z in block.z]
        mask, group_truth = block.mask[group].gather(1, columns), truth[group].gather(1, columns)
        for j, weights in enumerate(grid):
            top, _ = topk_rows(weighted_sum(zs, weights).masked_fill_(mask, float("-inf")), RECALL_K)
            hits[group, j] = group_truth.gather(1, top).sum(dim=1).to(torch.float64)
    return hits


def reach(block: CandidateBlock, grid: list[tuple[float, ...]], k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(best, threshold)``: each item's largest view z-score (``-inf`` where masked) and, per user, a
    threshold below which no item is in the top ``k`` of score fusion for any weight vector of ``grid``
    (non-negative, summing to 1).

    A weighted mean is at most the largest of its terms, so an item whose best z-score is below the k-th
    best fused score can never be in that weight's top k. The k-th best fused score over the candidates
    (the union of the views' top lists) is a lower bound of the k-th best over all items; the smallest of
    these bounds over the grid, less a relative 1e-9 for rounding, is the threshold. It is ``-inf`` (every
    column) for users with fewer than k candidates."""
    best = block.z[0].clone()
    for z in block.z[1:]:
        torch.maximum(best, z, out=best)
    best.masked_fill_(block.mask, float("-inf"))
    if block.items.shape[1] < k:
        return best, torch.full((best.shape[0],), float("-inf"), dtype=best.dtype, device=best.device)
    candidates = [z.gather(1, block.items) for z in block.z]
    kth = torch.stack(
        [
            torch.topk(weighted_sum(candidates, w).masked_fill_(~block.valid, float("-inf")), k, dim=1).values[:, -1]
            for w in grid
        ],
        dim=1,
    ).amin(dim=1)
    return best, torch.where(torch.isfinite(kth), kth - 1e-9 * (1.0 + kth.abs()), torch.full_like(kth, -math.inf))


def learned_topk(
    ws: Workspace,
    views,
    method: str,
    k: int,
    *,
    exclude: tuple[str, ...],
    device: torch.device,
    chunk_size: int | None = None,
    fits: int = 1,
    fold_in: bool = False,
) -> LearnedResult:
    """Fit ``method`` on the validation split and rank every user's unmasked items with it. ``views``
    are two ``(user, item)`` vector pairs, or for the ranker two or more; the ranker averages ``fits``
    models (each with its own held-out fifth). With ``fold_in`` the writing pass's history features (the
    similarity of each candidate to the history, and the user's activity, history popularity and text share)
    read the masked (``exclude``) items as the user's history instead of the train items, as the fitting pass
    reads its masked items (train): the history is what is known when the list is made. Item popularity stays
    the train count in both passes."""
    if method == "gate" and len(views) != 2:
        raise ConfigError(f"fuse --method gate fuses exactly two views, not {len(views)}")
    n_users, n_items = views[0][0].shape[0], views[0][1].shape[0]
    grid = weight_grid(len(views))
    history = history_of(ws, n_users, n_items)
    valid = SeenMask(n_users, n_items, ws.interaction_indices(("valid",)))
    if len(valid.items) == 0:
        raise ConfigError(f"fuse --method {method} fits on the valid split, and this workspace has none")
    static = torch.from_numpy(history.static_user_features().astype(np.float64))
    depth = min(RANK_DEPTH, n_items)

    # ---- fitting pass: train masked, valid as truth
    recall_rows, user_rows, feature_rows, valid_rows, label_rows, size_rows, margin_rows = [], [], [], [], [], [], []
    for block in candidate_blocks(
        views,
        history.train,
        history.item_popularity,
        depth=depth,
        device=device,
        history=history.train,
        chunk_size=chunk_size,
    ):
        truth = valid.block(block.start, block.stop, device)
        sizes = truth_sizes(truth)
        keep = sizes > 0
        recall_rows.append((grid_hits(block, truth, grid) / sizes.clamp(min=1).unsqueeze(1))[keep].cpu())
        user_rows.append(torch.arange(block.start, block.stop)[keep.cpu()])
        margin_rows.append(block.margins[keep].cpu())
        if method == "ranker":
            feature_rows.append(block.features[keep].cpu())
            valid_rows.append(block.valid[keep].cpu())
            label_rows.append(truth.gather(1, block.items)[keep].cpu())
            size_rows.append(sizes[keep].cpu())
    recall = torch.cat(recall_rows).numpy()
    fit_users = torch.cat(user_rows)
    user_features = torch.cat([static[fit_users], torch.cat(margin_rows)], dim=1)
    start = _best_weight(recall, grid)
    metrics: dict[str, Any] = {
        "fit_users": len(fit_users),
        "start_weight": grid[start][0] if len(views) == 2 else list(grid[start]),
        f"validation_recall@{RECALL_K}_start": float(recall[:, start].mean()),
    }

    if method == "gate":
        gate, report = fit_gate(user_features, torch.from_numpy(recall), start)
        reports = [report]
    else:
        inputs = candidate_inputs(torch.cat(feature_rows), user_features)
        labels = torch.cat(label_rows)
        candidates = torch.cat(valid_rows)
        if not bool((labels & candidates).any()):
            raise ConfigError("fuse --method ranker: no validation item is among any user's candidates; use score")
        ranker, reports = fit_ranker(
            inputs.to(device),
            candidates.to(device),
            labels.to(device),
            torch.cat(size_rows).to(device),
            grid[start],
            fits=fits,
        )
    curves = [{str(e): m for e, m in r.holdout_metric.items()} for r in reports]
    if len(reports) == 1:
        metrics.update({"epochs": reports[0].epochs, f"holdout_recall@{RECALL_K}": curves[0]})
    else:  # one entry per fit
        metrics.update(
            {"fits": len(reports), "epochs": [r.epochs for r in reports], f"holdout_recall@{RECALL_K}": curves}
        )

    # ---- writing pass: `exclude` masked
    seen = SeenMask(n_users, n_items, ws.interaction_indices(exclude))
    if fold_in:  # the user features of what is known now; item popularity stays the train count
        known = History(seen, history.item_popularity, history.item_has_text)
        static = torch.from_numpy(known.static_user_features().astype(np.float64))
    indices, scores = [], []
    chosen: list[np.ndarray] = []
    with torch.no_grad():
        for block in candidate_blocks(
            views,
            seen,
            history.item_popularity,
            depth=depth,
            device=device,
            history=seen if fold_in else history.train,
            chunk_size=chunk_size,
        ):
            ufeat = torch.cat([static[block.start : block.stop], block.margins.cpu()], dim=1)
            if method == "gate":
                choice = gate(ufeat).argmax(dim=1)
                chosen.append(choice.numpy())
                per_user = torch.tensor(WEIGHT_GRID, dtype=block.z_a.dtype)[choice].unsqueeze(1).to(block.z_a.device)
                fused_rows = (block.z_b + per_user * (block.z_a - block.z_b)).masked_fill(block.mask, float("-inf"))
                top, values = topk_rows(fused_rows, k)
            else:
                top, values = _ranked_then_filled(ranker, block, ufeat, grid[start], k)
            indices.append(top.cpu().numpy())
            scores.append(values.cpu().numpy())
    if method == "gate":
        counts = np.bincount(np.concatenate(chosen), minlength=len(WEIGHT_GRID))
        metrics["users_per_weight"] = {str(w): int(c) for w, c in zip(WEIGHT_GRID, counts, strict=True)}
    return LearnedResult(np.concatenate(indices), np.concatenate(scores), metrics)


def _ranked_then_filled(
    ranker: torch.nn.Module, block: CandidateBlock, user_features: torch.Tensor, weights: tuple[float, ...], k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ranker's order of the candidates (ties by the lower item index), then the other unmasked
    items in score fusion's order, cut at k; the score is k + 1 - rank (-inf for missing places)."""
    logits = masked_logits(ranker, candidate_inputs(block.features.cpu(), user_features), block.valid.cpu())
    items = block.items.cpu()
    by_item = torch.argsort(items, dim=1)
    items, logits = items.gather(1, by_item), logits.gather(1, by_item).to(torch.float64)
    order = torch.sort(logits, dim=1, descending=True, stable=True).indices
    ranked, ranked_ok = items.gather(1, order), torch.isfinite(logits.gather(1, order))
    fused = Fused(block)(weights).cpu()
    listed = torch.zeros_like(fused).scatter_add_(1, items, block.valid.cpu().gather(1, by_item).to(fused.dtype))
    fused.masked_fill_(listed > 0, float("-inf"))  # each candidate once, from the ranker's part
    fill, fill_values = topk_rows(fused, k)
    merged = torch.cat([ranked, fill], dim=1)
    keep = torch.cat([ranked_ok, torch.isfinite(fill_values)], dim=1)
    first = torch.sort((~keep).to(torch.int8), dim=1, stable=True).indices[:, :k]
    top, kept = merged.gather(1, first), keep.gather(1, first)
    score = (k - torch.arange(k, dtype=torch.float64)).expand(top.shape[0], -1)
    return top, torch.where(kept, score, torch.tensor(float("-inf"), dtype=torch.float64))
