"""Exact top-K search over arrays: chunked float32 matmul + the exact block kernels of ``blocks``.

Both public functions work on plain arrays (numpy or torch) and know nothing about workspaces.

Memory. Rows (users, or items for neighbours) are scored ``chunk_size`` at a time into a reused
``chunk_size x n_items`` float32 block, by each of ``workers`` threads (on the CPU, one per torch
thread; on CUDA one). Peak working memory is about ``1.5 x workers x chunk_size x n_items x 4`` bytes
(the score block, plus the CPU kernel's scratch: group maxima and their partitioned copy, 1/4 of a
block, and candidates, ~(k+8)*8*13/(4*n_items) of it), plus the item matrix (and its transpose on
the CPU) and the ``n_rows x k`` results: independent of the number of rows. By default ``chunk_size`` is
chosen so that all workers' score blocks together fit ``DEFAULT_CHUNK_BYTES`` (32 MiB; on CUDA
``DEFAULT_CHUNK_BYTES_CUDA``, 1 GiB).

Threads. On the CPU each worker thread runs its own chunks with one intra-op torch thread and one
BLAS thread, like faiss runs one query block per thread: far fewer synchronisations than letting
every small op of a chunk fan out over all threads (about 2x faster on 2 busy cores). The
process-wide torch thread count is restored afterwards.

CPU path. The product is numpy's OpenBLAS sgemm (about 25% faster than torch's MKL ``mm`` at
``chunk x 64 x 20,000``) and the selection is :func:`.blocks.grouped_topk_block_np`.

Same bits however the rows are split. An sgemm computes a row's scores with instructions that depend on
the row's position in the kernel's tile of rows (a few dozen rows on OpenBLAS's x86 kernels) and on whether that
tile is full, so a chunk boundary (the chunk size divides by the thread count) or a shard boundary moved
scores in the last bits and, at near-ties, ranks. So every chunk holds a multiple of ``ALIGN_ROWS`` rows
(zero rows pad the last) and starts where the row's index in the whole matrix (``row_offset`` + its
position) is a multiple of ``ALIGN_ROWS`` (zero rows pad the first chunk of a shard that starts inside
one): a row always sits at the same place in a full tile. ``ALIGN_ROWS`` = 192 is a multiple of every
tile height of the BLAS kernels in use (4 to 96). A catalogue too large for ``ALIGN_ROWS`` rows per worker
within ``MAX_ALIGNED_BYTES``, or an explicit ``chunk_size`` below ``ALIGN_ROWS``, is chunked without this
alignment (the last bits may then depend on the thread count and the shards).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..device import resolve_device
from ..errors import DataError
from .blocks import (
    GROUP_ROWS,
    GROUP_ROWS_CPU,
    Scratch,
    exact_topk_block,
    exact_topk_block_np,
    grouped_topk_block,
    grouped_topk_block_np,
    use_groups,
)

DEFAULT_CHUNK_BYTES = 32 * 2**20  # CPU: small blocks stay in cache and cost no speed (benchmarks/topk.py)
DEFAULT_CHUNK_BYTES_CUDA = 1 * 2**30  # GPU: big blocks keep the device busy
ALIGN_ROWS = 192  # chunks hold and start at multiples of this many rows (module docstring: same bits)
MAX_ALIGNED_BYTES = 1 * 2**30  # the most the aligned chunks' score blocks may take, all workers together


def default_chunk_size(n_rows: int, n_items: int, budget_bytes: int = DEFAULT_CHUNK_BYTES, workers: int = 1) -> int:
    """Rows per chunk so that ``workers`` float32 ``rows x n_items`` score blocks fit ``budget_bytes``."""
    return int(max(1, min(max(n_rows, 1), budget_bytes // (4 * max(n_items, 1) * max(workers, 1)))))


def _aligned_up(rows: int) -> int:
    """``rows`` rounded up to a multiple of ``ALIGN_ROWS``."""
    return -(-int(rows) // ALIGN_ROWS) * ALIGN_ROWS


def aligned_chunk_size(n_rows: int, n_items: int, budget_bytes: int, workers: int, chunk_size=None) -> int | None:
    """Rows per chunk, a multiple of ``ALIGN_ROWS``: ``chunk_size`` rounded up, or the budget's rows rounded down
    (at least ``ALIGN_ROWS``, at most the rows rounded up); None when ``chunk_size`` is below ``ALIGN_ROWS`` or
    ``ALIGN_ROWS`` rows per worker would take more than ``MAX_ALIGNED_BYTES``."""
    if chunk_size:
        return None if int(chunk_size) < ALIGN_ROWS else _aligned_up(chunk_size)
    row_bytes = 4 * max(n_items, 1) * max(workers, 1)  # one row of every worker's score block
    if ALIGN_ROWS * row_bytes > MAX_ALIGNED_BYTES:
        return None
    rows = budget_bytes // row_bytes // ALIGN_ROWS * ALIGN_ROWS
    return min(max(rows, ALIGN_ROWS), _aligned_up(max(n_rows, 1)))


def _device(device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def _as_float32(matrix, name: str) -> torch.Tensor:
    """A 2-d float32 CPU tensor of ``matrix`` (numpy or torch), checked to be finite."""
    tensor = matrix.detach() if isinstance(matrix, torch.Tensor) else torch.from_numpy(np.asarray(matrix))
    tensor = tensor.to(device="cpu", dtype=torch.float32)
    if tensor.ndim != 2:
        raise DataError(f"{name} must be a 2-d matrix, got shape {tuple(tensor.shape)}")
    if not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).any(dim=1).sum())
        raise DataError(f"{name} have NaN or infinite values in {bad} row(s); fix or re-create those vectors")
    return tensor.contiguous()


def check_k(k, n_candidates: int, what: str) -> int:
    """``k`` as an int in ``1..n_candidates``, or a one-line :class:`DataError`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be a positive integer, got {k!r}")
    if k > n_candidates:
        raise DataError(f"k={k} is larger than {what} ({n_candidates}); use a smaller --k")
    return int(k)


def seen_csr(user_idx, item_idx, n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indptr, items)``: the seen items of row ``u`` are ``items[indptr[u]:indptr[u + 1]]``."""
    users = np.asarray(user_idx, dtype=np.int64).ravel()
    items = np.asarray(item_idx, dtype=np.int64).ravel()
    if users.shape != items.shape:
        raise DataError(f"seen pairs have {users.size} user and {items.size} item indices; they must pair up")
    if users.size and (users.min() < 0 or users.max() >= n_users or items.min() < 0 or items.max() >= n_items):
        raise DataError(f"seen pairs index outside the {n_users} x {n_items} score matrix")
    order = np.lexsort((items, users))
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    return indptr, items[order]


def _finish_rows(values: np.ndarray, indices: np.ndarray, first_row: int, pad: bool) -> None:
    """Rows with fewer than k candidates left (masked = -inf) are padded with -1 or rejected."""
    short = np.isneginf(values[:, -1])
    if not short.any():
        return
    if not pad:
        row = first_row + int(np.flatnonzero(short)[0])
        raise DataError(
            f"user row {row} has fewer than k={values.shape[1]} unmasked items; use a smaller k or pad=True"
        )
    indices[np.isneginf(values)] = -1


def _select(scores, k: int, n_items: int, group_rows: int, scratch: Scratch):
    """Exact top-k of one score block: the numpy kernels for a numpy block, the torch ones otherwise."""
    if isinstance(scores, np.ndarray):
        if group_rows > 1:
            return grouped_topk_block_np(scores, k, n_items, group_rows, scratch)
        return exact_topk_block_np(scores[:, :n_items], k)
    if group_rows > 1:
        values, indices = grouped_topk_block(scores, k, n_items, group_rows)
    else:
        values, indices = exact_topk_block(scores, k)
    return values.cpu().numpy(), indices.cpu().numpy()


def _chunked_topk(queries, items, k: int, dev, chunk_size, mask_block, pad: bool, row_offset: int = 0):
    """Score ``queries[a:b] @ items.T`` chunk by chunk, apply ``mask_block(scores, a, b)``, keep the exact top-k.

    On the CPU the block is a numpy array (OpenBLAS sgemm, one BLAS thread per worker) and
    ``mask_block`` gets a zero-copy torch view of it; on CUDA everything stays in torch. ``queries[0]`` is
    row ``row_offset`` of the whole matrix (a shard's first user), which places the aligned chunks."""
    n_rows, n_items = queries.shape[0], items.shape[0]
    on_cpu = dev.type == "cpu"
    group_rows = GROUP_ROWS_CPU if on_cpu else GROUP_ROWS
    group_rows = group_rows if use_groups(n_items, k, group_rows) else 1
    padded_items = -(-n_items // group_rows) * group_rows
    threads = torch.get_num_threads()
    workers = threads if on_cpu else 1
    budget = DEFAULT_CHUNK_BYTES if on_cpu else DEFAULT_CHUNK_BYTES_CUDA
    aligned = aligned_chunk_size(n_rows, padded_items, budget, workers, chunk_size)
    if aligned is not None:
        chunk = aligned
        lead = int(row_offset) % ALIGN_ROWS  # zero rows before the first row: its place in an aligned chunk
    else:
        chunk = int(chunk_size) if chunk_size else default_chunk_size(n_rows, padded_items, budget, workers)
        lead = 0
    # chunk c covers rows [c * chunk - lead, (c + 1) * chunk - lead) of queries, cut to the rows there are
    starts = list(range(-lead, n_rows, chunk))
    workers = max(1, min(workers, len(starts)))
    items_on_device = torch.zeros((padded_items, items.shape[1]), dtype=torch.float32, device=dev)
    items_on_device[:n_items] = items.to(dev)
    if on_cpu:
        queries = queries.numpy()
        items_t = np.ascontiguousarray(items_on_device.numpy().T)  # [dim, items]: the faster sgemm layout
    out_indices = np.empty((n_rows, k), dtype=np.int64)
    out_scores = np.empty((n_rows, k), dtype=np.float32)

    def run(own_starts: list[int]) -> None:
        if workers > 1:
            torch.set_num_threads(1)
        # one score buffer per worker: a fresh block per chunk costs page faults on the CPU
        shape = (min(chunk, n_rows if aligned is None else _aligned_up(lead + n_rows)), padded_items)
        cpu_buffer = np.empty(shape, dtype=np.float32) if on_cpu else None
        device_buffer = None if on_cpu else torch.empty(shape, dtype=torch.float32, device=dev)
        scratch = Scratch()
        scores: np.ndarray | torch.Tensor
        with torch.inference_mode():
            for first in own_starts:
                start, stop = max(first, 0), min(first + chunk, n_rows)
                # the rows of the block: the chunk's own, after `before` zero rows and padded to a whole number of
                # ALIGN_ROWS when aligned (a full chunk in the middle needs neither)
                before = start - first
                rows = stop - start if aligned is None else _aligned_up(before + stop - start)
                keep = slice(before, before + stop - start)
                block = (
                    queries[start:stop]
                    if rows == stop - start
                    else _zero_padded(queries[start:stop], before, rows, on_cpu)
                )
                if cpu_buffer is not None:
                    scores = np.matmul(block, items_t, out=cpu_buffer[:rows])[keep]
                    view = torch.from_numpy(scores)
                else:
                    assert device_buffer is not None
                    out = device_buffer[:rows]
                    scores = view = torch.mm(block.to(dev), items_on_device.T, out=out)[keep]
                view[:, n_items:] = float("-inf")
                mask_block(view, start, stop)
                out_scores[start:stop], out_indices[start:stop] = _select(scores, k, n_items, group_rows, scratch)
                _finish_rows(out_scores[start:stop], out_indices[start:stop], start, pad)

    with _one_blas_thread():
        if workers == 1:
            run(starts)
            return out_indices, out_scores
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="complement-topk") as pool:
                for future in [pool.submit(run, starts[w::workers]) for w in range(workers)]:
                    future.result()
        finally:
            torch.set_num_threads(threads)
    return out_indices, out_scores


def _zero_padded(block, before: int, rows: int, on_cpu: bool):
    """``block`` as rows ``before`` … of ``rows`` rows, the others zero (numpy on the CPU, else torch)."""
    padded: np.ndarray | torch.Tensor
    if on_cpu:
        padded = np.zeros((rows, block.shape[1]), dtype=np.float32)
    else:
        padded = torch.zeros((rows, block.shape[1]), dtype=torch.float32)
    padded[before : before + block.shape[0]] = block
    return padded


def _one_blas_thread():
    """Each worker is one thread: numpy's BLAS must not fan out (it would spin on busy cores)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def topk_indices(user_vecs, item_vecs, k, *, seen=None, device="cpu", chunk_size=None, pad=False, row_offset=0):
    """Exact top-``k`` items per user by inner product ``score(u, i) = user_vecs[u] · item_vecs[i]``.

    Returns ``(indices int64 [n_users, k], scores float32 [n_users, k])``, each row sorted by
    descending score, ties broken by lower item index. ``seen = (user_idx, item_idx)`` are pairs
    never returned. A user with fewer than ``k`` unseen items raises :class:`DataError`, or with
    ``pad=True`` gets ``-1`` indices and ``-inf`` scores in the missing slots. ``chunk_size`` users
    are scored at a time per worker (default: all score blocks within 32 MiB on the CPU; see the module docstring).
    ``row_offset``: the index of ``user_vecs[0]`` among all users, when these are a shard of them (their scores
    are then the same bits as in one run over all users; the module docstring).
    """
    users = _as_float32(user_vecs, "user vectors")
    items = _as_float32(item_vecs, "item vectors")
    if users.shape[1] != items.shape[1]:
        raise DataError(f"user vectors have {users.shape[1]} dimensions but item vectors have {items.shape[1]}")
    n_users, n_items = users.shape[0], items.shape[0]
    k = check_k(k, n_items, "the catalogue")
    dev = _device(device)
    indptr, seen_items = seen_csr(seen[0], seen[1], n_users, n_items) if seen is not None else (None, None)

    def mask_seen(scores: torch.Tensor, start: int, stop: int) -> None:
        if indptr is None or seen_items is None or indptr[stop] == indptr[start]:
            return
        rows = np.repeat(np.arange(stop - start), np.diff(indptr[start : stop + 1]))
        cols = seen_items[indptr[start] : indptr[stop]]
        scores[torch.from_numpy(rows).to(dev), torch.from_numpy(cols).to(dev)] = float("-inf")

    return _chunked_topk(users, items, k, dev, chunk_size, mask_seen, pad, row_offset)


def neighbors_indices(item_vecs, k, *, device="cpu", chunk_size=None):
    """Exact ``k`` nearest items of every item by cosine similarity, the item itself excluded.

    ``sim(i, j) = (x_i / ||x_i||) · (x_j / ||x_j||)`` in float32 (a zero vector has similarity 0 to
    everything). Returns ``(indices int64 [n_items, k], sims float32 [n_items, k])``, each row by
    descending similarity, ties broken by lower item index.
    """
    items = _as_float32(item_vecs, "item vectors")
    n_items = items.shape[0]
    k = check_k(k, n_items - 1, "the number of other items")
    dev = _device(device)
    norms = items.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, items / torch.where(norms > 0, norms, torch.ones_like(norms)), items)

    def mask_self(sims: torch.Tensor, start: int, stop: int) -> None:
        rows = torch.arange(stop - start, device=sims.device)
        sims[rows, rows + start] = float("-inf")

    return _chunked_topk(unit, unit, k, dev, chunk_size, mask_self, pad=False)
