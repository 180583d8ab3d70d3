"""Exact top-k of one block of scores: ``torch.topk`` candidates, then exact index-ordered ties.

``torch.topk`` returns *a* top-k set but breaks ties arbitrarily. We take ``W = k + TIE_MARGIN``
candidates per row, order them by ``(-score, column)`` and keep ``k``. That is exact whenever
everything outside the candidates scores strictly below the k-th value kept (every item tied with
the k-th is then a candidate). Rows where that cannot be shown (ties spilling past the candidates)
are redone by a full scan of the row: all items above the k-th value, then the lowest-index items
equal to it. So each row equals a stable sort by ``(-score, column)``, cut at k.

:func:`grouped_topk_block` avoids running ``torch.topk`` over whole rows of a large catalogue: it
first picks the W groups (of ``GROUP_ROWS`` items) with the largest maxima and searches only them.

The ``*_np`` twins do the same on a numpy block (the CPU path): ``np.argpartition`` (SIMD
introselect) picks candidates several times faster than ``torch.topk`` on the CPU, and a flat
``take`` gathers the groups' items; the ``W`` candidates are then ordered by the same torch code.
"""

from __future__ import annotations

import numpy as np
import torch

TIE_MARGIN = 8
GROUP_ROWS = 16  # items per group in grouped_topk_block (CUDA)
GROUP_ROWS_CPU = 8  # in grouped_topk_block_np: half the candidates to gather, ~10% faster on the CPU


def use_groups(n_items: int, k: int, group_rows: int = GROUP_ROWS) -> bool:
    """The grouped search pays off once the W best groups are a small share of all groups."""
    return n_items >= group_rows * 4 * (k + TIE_MARGIN)


def _sortable_int(values: torch.Tensor) -> torch.Tensor:
    """int64 keys ordered like the float32 ``values`` (IEEE bits with the negatives' magnitude flipped)."""
    bits = (values + 0.0).view(torch.int32)  # + 0.0 turns -0.0 into +0.0 so the two tie, as floats do
    return (bits ^ ((bits >> 31) & 0x7FFFFFFF)).to(torch.int64)


def _order_candidates(values: torch.Tensor, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row's candidates by (-score, index). For float32 one sort of the unique int64 key
    ``-sortable(score) * 2**32 + index`` (indices are below 2**31); other dtypes (float64 callers)
    sort by index, then stably by score."""
    if values.dtype == torch.float32:
        key = _sortable_int(values).neg_().mul_(2**32).add_(indices)
        order = torch.sort(key, dim=1).indices
        return values.gather(1, order), indices.gather(1, order)
    indices, by_index = torch.sort(indices, dim=1)
    values = values.gather(1, by_index)
    values, by_score = torch.sort(values, dim=1, descending=True, stable=True)
    return values, indices.gather(1, by_score)


def _exact_row(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-k of one row by a full scan (the rare row whose ties spill past the candidates)."""
    kth = torch.topk(scores, k).values[k - 1]
    above = torch.nonzero(scores > kth).flatten()
    tied = torch.nonzero(scores == kth).flatten()[: k - above.numel()]  # nonzero is ascending
    chosen = torch.cat([above, tied])
    values, indices = _order_candidates(scores[chosen].unsqueeze(0), chosen.unsqueeze(0))
    return values[0], indices[0]


def _keep_k(scores, values, indices, k, spill_floor):
    """Order the candidates by (-score, index) and keep k. A row is exact when every item outside
    its candidates scores below its k-th value, i.e. when ``spill_floor`` (the most any
    non-candidate can score) is below it; other rows are redone by a full scan."""
    values, indices = _order_candidates(values, indices)
    values, indices = values[:, :k].contiguous(), indices[:, :k].contiguous()
    if spill_floor is not None:
        for row in torch.nonzero(spill_floor >= values[:, k - 1]).flatten().tolist():
            values[row], indices[row] = _exact_row(scores[row], k)
    return values, indices


def exact_topk_block(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(values, indices)`` of each row's k largest entries, ties broken by lower column index."""
    n_cols = scores.shape[1]
    width = min(n_cols, k + TIE_MARGIN)
    values, indices = torch.topk(scores, width, dim=1, largest=True, sorted=False)
    return _keep_k(scores, values, indices, k, values.amin(dim=1) if width < n_cols else None)


def grouped_topk_block(
    scores: torch.Tensor, k: int, n_valid: int, group_rows: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-k like :func:`exact_topk_block`, reading far fewer entries per row.

    ``scores`` is ``[rows, group_rows * n_groups]`` with columns ``>= n_valid`` set to -inf. Column
    ``j * n_groups + g`` belongs to group ``g`` (a strided grid, so the group maxima are one
    vectorised max over ``group_rows`` slices). Only the ``W = k + TIE_MARGIN`` groups with the
    largest maxima are searched: any item outside them scores at most ``g_W`` (the W-th largest
    group maximum), and any candidate outside the top W candidates at most their W-th value, so the
    result is exact when both are below the k-th value found; other rows (ties at the threshold)
    are redone by a full scan.
    """
    n_rows, n_cols = scores.shape
    n_groups = n_cols // group_rows
    width = k + TIE_MARGIN
    grid = scores.view(n_rows, group_rows, n_groups)
    group_max, groups = torch.topk(grid.amax(dim=1), width, dim=1, largest=True, sorted=False)
    candidates = torch.gather(grid, 2, groups.unsqueeze(1).expand(-1, group_rows, -1)).reshape(n_rows, -1)
    values, slots = torch.topk(candidates, width, dim=1, largest=True, sorted=False)
    indices = (
        torch.div(slots, width, rounding_mode="floor").mul_(n_groups).add_(groups.gather(1, slots.remainder(width)))
    )
    spill_floor = torch.maximum(group_max.amin(dim=1), values.amin(dim=1))
    return _keep_k(scores[:, :n_valid], values, indices, k, spill_floor)


def _keep_k_np(scores: np.ndarray, values: np.ndarray, indices: np.ndarray, k: int, spill_floor):
    """:func:`_keep_k` on numpy arrays (zero-copy through torch; the W candidates are few)."""
    floor = None if spill_floor is None else torch.from_numpy(np.ascontiguousarray(spill_floor))
    kept_values, kept_indices = _keep_k(
        torch.from_numpy(scores),
        torch.from_numpy(np.ascontiguousarray(values)),
        torch.from_numpy(np.ascontiguousarray(indices, dtype=np.int64)),
        k,
        floor,
    )
    return kept_values.numpy(), kept_indices.numpy()


def exact_topk_block_np(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_topk_block` of a float32 numpy block: same values, same indices."""
    n_rows, n_cols = scores.shape
    width = min(n_cols, k + TIE_MARGIN)
    if width == n_cols:
        indices = np.tile(np.arange(n_cols, dtype=np.int64), (n_rows, 1))
        return _keep_k_np(scores, scores, indices, k, None)
    indices = np.argpartition(scores, n_cols - width, axis=1)[:, n_cols - width :]
    values = np.take_along_axis(scores, indices, axis=1)
    return _keep_k_np(scores, values, indices, k, values.min(axis=1))


def _sortable_int_np(values: np.ndarray) -> np.ndarray:
    """numpy :func:`_sortable_int`: int64 keys ordered like the float32 ``values``."""
    bits = (values + np.float32(0.0)).view(np.int32)
    return (bits ^ ((bits >> 31) & 0x7FFFFFFF)).astype(np.int64)


class Scratch:
    """Named arrays reused from block to block: big temporaries allocated afresh for every block
    cost page faults (glibc hands them back to the kernel), about a fifth of a cold run."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        size = int(np.prod(shape))
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(size, dtype=dtype)
        return array[:size].reshape(shape)


def grouped_topk_block_np(
    scores: np.ndarray, k: int, n_valid: int, group_rows: int, scratch: Scratch | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`grouped_topk_block` of a C-contiguous float32 numpy block: same values, same indices.

    Same W groups, but of their items only the candidates at or above ``floor``, the W-th largest
    group maximum, are kept: W distinct items score at least ``floor``, so the k-th score does
    too, and typically only a few more than W candidates pass. They are ordered by one sort of the
    (-score, index) key. Exact when every item outside the W groups (at most ``floor``) scores
    below the k-th value; other rows are redone by a full scan."""
    scratch = scratch or Scratch()
    n_rows, n_cols = scores.shape
    n_groups = n_cols // group_rows
    width = k + TIE_MARGIN
    group_max = scratch.get("max", (n_rows, n_groups), np.float32)
    scores.reshape(n_rows, group_rows, n_groups).max(axis=1, out=group_max)
    partitioned = scratch.get("partitioned", group_max.shape, np.float32)
    np.copyto(partitioned, group_max)
    partitioned.partition(n_groups - width, axis=1)
    floor = partitioned[:, n_groups - width].copy()
    above = np.flatnonzero(np.greater_equal(group_max, floor[:, None], out=scratch.get("above", group_max.shape, bool)))
    if above.size == n_rows * width:  # no ties at the floor: exactly W groups per row
        groups = (above % n_groups).reshape(n_rows, width)
    else:
        groups = np.argpartition(group_max, n_groups - width, axis=1)[:, n_groups - width :]
    # candidate slot j * W + w is column j * n_groups + groups[w] of its row
    at = np.arange(0, n_rows * n_cols, n_cols)[:, None, None] + np.arange(0, n_cols, n_groups)[None, :, None]
    at = np.add(at, groups[:, None, :], out=scratch.get("at", (n_rows, group_rows, width), np.int64))
    candidates = scores.reshape(-1).take(
        at.reshape(n_rows, -1), out=scratch.get("candidates", (n_rows, group_rows * width), np.float32), mode="clip"
    )
    passed = np.greater_equal(candidates, floor[:, None], out=scratch.get("passed", candidates.shape, bool))
    rows, slots = np.divmod(np.flatnonzero(passed), group_rows * width)
    columns = (slots // width) * n_groups + groups[rows, slots % width]
    keys = (-_sortable_int_np(candidates[rows, slots]) << 32) + columns
    counts = np.bincount(rows, minlength=n_rows)  # at least W per row
    padded = np.full((n_rows, int(counts.max())), np.iinfo(np.int64).max, dtype=np.int64)
    padded[rows, np.arange(rows.size) - (np.cumsum(counts) - counts)[rows]] = keys
    indices = np.sort(padded, axis=1)[:, :k] & 0xFFFFFFFF
    values = scores.reshape(-1).take(indices + np.arange(0, n_rows * n_cols, n_cols)[:, None])
    for row in np.flatnonzero(floor >= values[:, k - 1]):
        exact_values, exact_indices = _exact_row(torch.from_numpy(scores[row, :n_valid]), k)
        values[row], indices[row] = exact_values.numpy(), exact_indices.numpy()
    return values, indices
