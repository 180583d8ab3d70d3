"""Torch kernels shared by the training-free fusion methods: user chunks, seen-item masks and an
exact top-K with ties broken by the lower item index.

Fusion needs each user's *full* score row (standardisation statistics, full rankings for RRF), so
everything works on dense ``[chunk, n_items]`` blocks; the chunk size is chosen from a memory budget
so peak memory does not grow with the number of users."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

# Bytes a chunk may use: about eight [chunk, n_items] blocks of up to 8 bytes live at once (two
# views' scores, their standardised copies or float64 ranks, the fused row, the sort buffers).
DEFAULT_MEMORY_BUDGET = 512 * 2**20
BLOCKS_PER_CHUNK = 8


def default_chunk_size(n_items: int, budget_bytes: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Users per chunk so that ``BLOCKS_PER_CHUNK * chunk * n_items * 8`` bytes fit ``budget_bytes``."""
    return max(1, budget_bytes // (BLOCKS_PER_CHUNK * 8 * max(1, n_items)))


def user_chunks(n_users: int, chunk_size: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` row ranges covering ``0..n_users``."""
    for start in range(0, n_users, chunk_size):
        yield start, min(n_users, start + chunk_size)


class SeenMask:
    """Per-user seen items as CSR, turned into a dense boolean block one chunk at a time."""

    def __init__(self, n_users: int, n_items: int, seen: tuple[np.ndarray, np.ndarray] | None):
        self.n_users, self.n_items = n_users, n_items
        if seen is None:
            users = items = np.zeros(0, dtype=np.int64)
        else:
            users, items = (np.asarray(a, dtype=np.int64) for a in seen)
        order = np.argsort(users, kind="stable")
        self.items = items[order]
        self.indptr = np.zeros(n_users + 1, dtype=np.int64)
        np.add.at(self.indptr, users + 1, 1)
        self.indptr = np.cumsum(self.indptr)

    def block(self, start: int, stop: int, device: torch.device) -> torch.Tensor:
        """``[stop - start, n_items]`` bool, True where the item is masked for that user."""
        mask = torch.zeros((stop - start, self.n_items), dtype=torch.bool)
        lo, hi = self.indptr[start], self.indptr[stop]
        if hi > lo:
            rows = np.repeat(np.arange(stop - start), np.diff(self.indptr[start : stop + 1]))
            mask[torch.from_numpy(rows), torch.from_numpy(self.items[lo:hi])] = True
        return mask.to(device)

    def items_of(self, user: int) -> np.ndarray:
        return self.items[self.indptr[user] : self.indptr[user + 1]]


def scores_block(user_vecs: torch.Tensor, item_vecs: torch.Tensor, start: int, stop: int) -> torch.Tensor:
    """Dot-product scores ``user · item`` of users ``start..stop`` against every item (float32,
    like the scores ``complement topk`` stores)."""
    return user_vecs[start:stop] @ item_vecs.T


TIE_MARGIN = 8


def topk_rows(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` columns of each row, highest score first, equal scores by lower column index.

    Masked entries must be ``-inf``; they come last and are returned only when a row has fewer than
    ``k`` unmasked entries (callers drop them). ``torch.topk`` takes ``k + TIE_MARGIN`` candidates,
    ordered exactly by (-score, column); a row whose ties run past the candidates (its last
    candidate equals its k-th) is redone with a full stable sort, so the result always equals a
    stable descending sort of the row."""
    width = min(scores.shape[1], k + TIE_MARGIN)
    values, indices = torch.topk(scores, width, dim=1, sorted=True)
    indices, by_index = torch.sort(indices, dim=1)
    values, by_score = torch.sort(values.gather(1, by_index), dim=1, descending=True, stable=True)
    last_candidate = values[:, width - 1]
    indices = indices.gather(1, by_score)[:, :k].clone()
    values = values[:, :k].clone()
    if width < scores.shape[1]:
        spill = torch.nonzero(values[:, k - 1] == last_candidate).flatten()
        if spill.numel():
            full_values, full_indices = torch.sort(scores[spill], dim=1, descending=True, stable=True)
            values[spill], indices[spill] = full_values[:, :k], full_indices[:, :k]
    return indices, values


def descending_order(scores: torch.Tensor) -> torch.Tensor:
    """Column order of each row by descending score, equal scores by lower column index (what a
    stable descending sort gives), as int64 indices on ``scores``' device.

    On the CPU each (score, column) pair of a float32 row is packed into one distinct int64 key — the
    score's bits mapped to a monotone integer in the high word, the column in the low word — and the
    keys are sorted with numpy's vectorised integer sort: no ties remain, so the order is exact and
    several times faster than ``torch.sort(stable=True)`` on a 13,000-item row (docs/benchmarks.md).
    ``-0.0`` is folded into ``0.0`` first (the two compare equal). Scores must not be NaN."""
    if scores.device.type != "cpu" or scores.dtype != torch.float32 or scores.shape[1] >= 2**31:
        return torch.sort(scores, dim=1, descending=True, stable=True).indices
    bits = (scores.detach() + 0.0).numpy().view(np.int32)
    ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF)  # float order == signed integer order
    keys = (~ascending).astype(np.int64) << 32  # descending score first ...
    keys |= np.arange(scores.shape[1], dtype=np.int64)  # ... then the lower column
    keys.sort(axis=1)
    keys &= 0xFFFFFFFF
    return torch.from_numpy(keys)


def full_ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank (1 = best) of every column within its row, ties by lower column index, as float64."""
    return rank_function(scores, lambda positions: positions)


def reciprocal_ranks(scores: torch.Tensor, offset: float) -> torch.Tensor:
    """``1 / (offset + rank)`` of every column (ranks as in :func:`full_ranks`), float64: the function
    is applied to the n positions once and scattered, not to every entry of the block."""
    return rank_function(scores, lambda positions: 1.0 / (offset + positions))


def rank_function(scores: torch.Tensor, of_rank) -> torch.Tensor:
    """``of_rank(rank)`` of every column, computed on the float64 ranks 1..n and scattered by the order."""
    order = descending_order(scores)
    positions = torch.arange(1, scores.shape[1] + 1, dtype=torch.float64, device=scores.device)
    out = torch.empty_like(scores, dtype=torch.float64)
    out.scatter_(1, order, of_rank(positions).expand(scores.shape[0], -1))
    return out


def recall_hits(
    top_items: torch.Tensor, truth_block: torch.Tensor, sizes: torch.Tensor | None = None
) -> tuple[float, int]:
    """Sum over a chunk's users of |top ∩ truth| / |truth| (``truth_block`` from :meth:`SeenMask.block`),
    and the number of users with truth. ``sizes`` (float64 ``truth_block.sum(dim=1)``) may be passed
    when one truth block is scored against many lists: summing the dense block is most of the cost."""
    hits = truth_block.gather(1, top_items).sum(dim=1).to(torch.float64)
    if sizes is None:
        sizes = truth_sizes(truth_block)
    evaluated = sizes > 0
    return float((hits[evaluated] / sizes[evaluated]).sum()), int(evaluated.sum())


def truth_sizes(truth_block: torch.Tensor) -> torch.Tensor:
    """Truth items per row of a boolean truth block, float64."""
    return truth_block.sum(dim=1).to(torch.float64)
