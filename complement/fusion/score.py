"""Score fusion: per-user standardised scores of two views, combined linearly.

For user u and view v with scores ``s_v(u, i) = user_v(u) · item_v(i)`` over the unmasked items I(u):

- ``zscore``: ``(s - mean_I(u) s) / std_I(u) s`` (population std; 0 where the std is 0);
- ``minmax``: ``(s - min_I(u) s) / (max_I(u) s - min_I(u) s)`` (0 where max = min);

and the fused score is ``w * std_A(u, i) + (1 - w) * std_B(u, i)``. Masked items take no part in the
statistics and are never recommended. ``w`` is tuned on the validation split when not given:
the grid 0, 0.1, ..., 1 maximising validation Recall@20 with the train items masked (ties: the
weight nearest 0.5, then the smaller one)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .kernels import SeenMask, default_chunk_size, recall_hits, scores_block, topk_rows, truth_sizes, user_chunks

NORMS = ("zscore", "minmax")
WEIGHT_GRID = tuple(round(0.1 * i, 1) for i in range(11))


def standardise(scores: torch.Tensor, mask: torch.Tensor, norm: str = "zscore") -> torch.Tensor:
    """Per-row standardised ``scores`` with statistics over the unmasked entries; masked entries -> 0."""
    if norm not in NORMS:
        raise ConfigError(f"unknown norm '{norm}' (choose from: {', '.join(NORMS)})")
    count = (~mask).sum(dim=1, keepdim=True).clamp(min=1).to(scores.dtype)
    if norm == "zscore":
        out = scores.masked_fill(mask, 0.0)
        out -= out.sum(dim=1, keepdim=True) / count
        out.masked_fill_(mask, 0.0)
        std = torch.linalg.vector_norm(out, dim=1, keepdim=True) / count.sqrt()
        return out.div_(torch.where(std > 0, std, torch.ones_like(std)))
    low = scores.masked_fill(mask, float("inf")).amin(dim=1, keepdim=True)
    high = scores.masked_fill(mask, float("-inf")).amax(dim=1, keepdim=True)
    spread = high - low
    out = (scores - low).div_(torch.where(spread > 0, spread, torch.ones_like(spread)))
    return out.masked_fill_(mask, 0.0)


class Combiner:
    """``w * A + (1 - w) * B`` for many weights over one chunk, masked entries ``-inf``.

    Computed as ``B + w * (A - B)`` (one pass per weight); ``w = 1`` and ``w = 0`` return A and B
    exactly so the end points reproduce each view's ranking."""

    def __init__(self, std_a: torch.Tensor, std_b: torch.Tensor, mask: torch.Tensor):
        self.a = std_a.masked_fill(mask, float("-inf"))
        self.b = std_b.masked_fill(mask, float("-inf"))
        self.diff = (std_a - std_b).masked_fill_(mask, 0.0)

    def __call__(self, weight: float) -> torch.Tensor:
        if weight == 1.0:
            return self.a
        if weight == 0.0:
            return self.b
        return torch.add(self.b, self.diff, alpha=weight)


def combine(std_a: torch.Tensor, std_b: torch.Tensor, mask: torch.Tensor, weight: float) -> torch.Tensor:
    """``w * A + (1 - w) * B`` with masked entries set to ``-inf``."""
    return Combiner(std_a, std_b, mask)(weight)


def _standardised_blocks(views, mask: SeenMask, norm: str, device: torch.device, chunk_size: int):
    """Yield ``(start, stop, mask_block, std_A, std_B)`` per user chunk."""
    (user_a, item_a), (user_b, item_b) = views
    for start, stop in user_chunks(user_a.shape[0], chunk_size):
        mask_block = mask.block(start, stop, device)
        std_a = standardise(scores_block(user_a, item_a, start, stop), mask_block, norm)
        std_b = standardise(scores_block(user_b, item_b, start, stop), mask_block, norm)
        yield start, stop, mask_block, std_a, std_b


def tune_weight(
    views,
    *,
    train: SeenMask,
    valid: SeenMask,
    norm: str = "zscore",
    k: int = 20,
    grid=WEIGHT_GRID,
    device: torch.device,
    chunk_size: int | None = None,
) -> tuple[float, dict[float, float]]:
    """The grid weight with the best validation Recall@k (train masked), and Recall@k per weight."""
    chunk_size = chunk_size or default_chunk_size(views[0][1].shape[0])
    totals = {w: 0.0 for w in grid}
    n_users = 0
    for start, stop, mask_block, std_a, std_b in _standardised_blocks(views, train, norm, device, chunk_size):
        fused = Combiner(std_a, std_b, mask_block)
        truth = valid.block(start, stop, device)
        sizes = truth_sizes(truth)
        for w in grid:
            top, _ = topk_rows(fused(w), k)
            hits, evaluated = recall_hits(top, truth, sizes)
            totals[w] += hits
        n_users += evaluated
    if n_users == 0:
        raise ConfigError("no user has validation items to tune the weight on; give one with --weight")
    recall = {w: totals[w] / n_users for w in grid}
    best = max(grid, key=lambda w: (round(recall[w], 12), -abs(w - 0.5), -w))
    return best, recall


def score_fusion_topk(
    views,
    k: int,
    *,
    weight: float,
    norm: str = "zscore",
    seen: SeenMask,
    device: torch.device,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item indices and fused scores per user (``-inf`` where fewer than k items are unmasked)."""
    chunk_size = chunk_size or default_chunk_size(views[0][1].shape[0])
    indices, scores = [], []
    for _, _, mask_block, std_a, std_b in _standardised_blocks(views, seen, norm, device, chunk_size):
        top, values = topk_rows(combine(std_a, std_b, mask_block, weight), k)
        indices.append(top.cpu().numpy())
        scores.append(values.cpu().numpy())
    return np.concatenate(indices), np.concatenate(scores)
