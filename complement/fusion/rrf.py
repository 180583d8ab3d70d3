"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

For user u, ``rrf(u, i) = 1 / (k + rank_A(u, i)) + 1 / (k + rank_B(u, i))`` where ``rank_v`` is the
position (1 = best) of item i in view v's FULL ranking of u's unmasked items (equal scores ranked by
lower item index), and ``k`` = 60 by default. Computed in float64, one user chunk at a time."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .kernels import SeenMask, default_chunk_size, reciprocal_ranks, scores_block, topk_rows, user_chunks

DEFAULT_RRF_K = 60.0


def rrf_scores(
    scores_a: torch.Tensor, scores_b: torch.Tensor, mask: torch.Tensor, rrf_k: float = DEFAULT_RRF_K
) -> torch.Tensor:
    """RRF score of every (user, item) in a chunk; masked entries -> ``-inf``.

    Masked items are set to ``-inf`` before ranking so they rank after every unmasked item and
    the unmasked items hold ranks 1..|I(u)|."""
    if rrf_k < 0:
        raise ConfigError(f"--rrf-k must be >= 0, got {rrf_k}")
    fused = reciprocal_ranks(scores_a.masked_fill(mask, float("-inf")), rrf_k)
    fused += reciprocal_ranks(scores_b.masked_fill(mask, float("-inf")), rrf_k)
    return fused.masked_fill_(mask, float("-inf"))


def rrf_topk(
    views,
    k: int,
    *,
    rrf_k: float = DEFAULT_RRF_K,
    seen: SeenMask,
    device: torch.device,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` item indices and RRF scores per user (``-inf`` where fewer than k items are unmasked)."""
    (user_a, item_a), (user_b, item_b) = views
    chunk_size = chunk_size or default_chunk_size(item_a.shape[0])
    indices, scores = [], []
    for start, stop in user_chunks(user_a.shape[0], chunk_size):
        mask_block = seen.block(start, stop, device)
        fused = rrf_scores(
            scores_block(user_a, item_a, start, stop), scores_block(user_b, item_b, start, stop), mask_block, rrf_k
        )
        top, values = topk_rows(fused, k)
        indices.append(top.cpu().numpy())
        scores.append(values.cpu().numpy())
    return np.concatenate(indices), np.concatenate(scores)
