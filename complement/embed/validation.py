"""Recall@K by full ranking with seen items masked: the one definition the training loop (validation
and test recall, on every user with truth or on a fixed sample, :func:`validation_users`) and the
alignment probes (:mod:`complement.probes.metrics`) use, through the blocked exact top-K kernel."""

from __future__ import annotations

import numpy as np
import torch


def pair_keys(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted unique ``user * n_items + item`` keys, for fast membership tests."""
    return np.unique(np.asarray(users, np.int64) * n_items + np.asarray(items, np.int64))


def _csr_rows(users: np.ndarray, items: np.ndarray, n_users: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(users, kind="stable")
    indptr = np.zeros(n_users + 1, np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    return indptr, np.asarray(items, np.int64)[order]


#: validation Recall@20 during training is computed on at most this many users with validation items,
#: a fixed uniform sample (seed VALID_SAMPLE_SEED, the same for every model and training seed); datasets
#: with fewer validation users (ml-100k, Scientific) are evaluated on all of them
VALID_SAMPLE_USERS = 10_000
VALID_SAMPLE_SEED = 0


def validation_users(truth_users: np.ndarray, size: int, seed: int = VALID_SAMPLE_SEED) -> np.ndarray:
    """A sorted uniform sample (without replacement) of ``size`` of the distinct ``truth_users``;
    all of them when ``size`` is 0 or covers them. Deterministic for a seed."""
    users = np.unique(np.asarray(truth_users, np.int64))
    if size <= 0 or size >= len(users):
        return users
    return np.sort(np.random.default_rng(seed).choice(users, size=size, replace=False))


def _seen_columns(seen_ptr: np.ndarray, seen_items: np.ndarray, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(row, item)`` pairs of the seen items of ``users`` (rows index ``users``), without a Python loop."""
    counts = seen_ptr[users + 1] - seen_ptr[users]
    rows = np.repeat(np.arange(len(users)), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, seen_items[np.repeat(seen_ptr[users], counts) + offsets]


def seen_rows(seen: tuple[np.ndarray, np.ndarray], users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``seen`` (user, item) pairs of the distinct ids ``users``, each user replaced by its row
    in ``users`` (in ``seen``'s order): the mask of a top-K computed over ``user_vecs[users]``."""
    users = np.asarray(users, np.int64)
    seen_users, seen_items = np.asarray(seen[0], np.int64), np.asarray(seen[1], np.int64)
    row_of = np.full(max(int(users.max(initial=-1)), int(seen_users.max(initial=-1))) + 1, -1, np.int64)
    row_of[users] = np.arange(len(users))
    rows = row_of[seen_users]
    keep = rows >= 0
    return rows[keep], seen_items[keep]


@torch.no_grad()
def recall_at_k(
    user_vecs: torch.Tensor | np.ndarray,
    item_vecs: torch.Tensor | np.ndarray,
    seen: tuple[np.ndarray, np.ndarray],
    truth: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    chunk_size: int = 4096,
    users: np.ndarray | None = None,
    device: torch.device | str | None = None,
) -> float:
    """Mean Recall@k = |top-k ∩ T(u)| / |T(u)| over users with non-empty truth ``T(u)`` (the set of
    the user's distinct truth items, as the ``metrics`` diagnostic counts it); with ``users``, over
    those of them that are in ``users`` only (a validation sample, :func:`validation_users`).

    Full ranking: score = user · item over every item, ``seen`` pairs masked to -inf. Vectors on the
    CPU (numpy or torch) go through the blocked exact top-K kernel, on ``device`` (default the CPU);
    vectors on an accelerator, or with a non-finite entry, are ranked in chunks of ``chunk_size``
    users (memory O(chunk_size × n_items)). 0.0 when no user has truth."""
    user_vecs, item_vecs = torch.as_tensor(user_vecs), torch.as_tensor(item_vecs)
    n_users, n_items = user_vecs.shape[0], item_vecs.shape[0]
    truth_users = np.unique(truth[0])
    if users is not None:
        truth_users = np.intersect1d(truth_users, np.asarray(users, np.int64))
    if len(truth_users) == 0:
        return 0.0
    k = min(k, n_items)
    unique_keys = pair_keys(truth[0], truth[1], n_items)  # a repeated (user, item) test pair counts once
    truth_keys = torch.from_numpy(unique_keys).to(user_vecs.device)
    truth_count = np.bincount(unique_keys // n_items, minlength=n_users)
    if (
        user_vecs.device.type == "cpu"
        and bool(torch.isfinite(user_vecs).all())
        and bool(torch.isfinite(item_vecs).all())
    ):
        return _recall_blocked(user_vecs, item_vecs, seen, truth_users, truth_keys, truth_count, k, device)
    seen_ptr, seen_items = _csr_rows(seen[0], seen[1], n_users)
    hits_total = 0.0
    for start in range(0, len(truth_users), chunk_size):
        users = truth_users[start : start + chunk_size]
        scores = user_vecs[torch.from_numpy(users).to(user_vecs.device)] @ item_vecs.T
        rows, cols = _seen_columns(seen_ptr, seen_items, users)
        scores[torch.from_numpy(rows).to(scores.device), torch.from_numpy(cols).to(scores.device)] = -torch.inf
        top = scores.topk(k, dim=1).indices
        keys = torch.from_numpy(users).to(top.device).unsqueeze(1) * n_items + top
        position = torch.searchsorted(truth_keys, keys).clamp_max(len(truth_keys) - 1)
        hits = (truth_keys[position] == keys).sum(1).cpu().numpy()
        hits_total += float((hits / truth_count[users]).sum())
    return hits_total / len(truth_users)


def _recall_blocked(user_vecs, item_vecs, seen, truth_users, truth_keys, truth_count, k: int, device) -> float:
    """:func:`recall_at_k` through the blocked exact top-K kernel (``complement.scoring.topk_indices``,
    ties by lower item index): about 2x faster than a dense ``torch.topk`` per chunk on Games."""
    from ..scoring import topk_indices

    top, _ = topk_indices(
        user_vecs[torch.from_numpy(truth_users)],
        item_vecs,
        k,
        seen=seen_rows(seen, truth_users),
        device=device or "cpu",
        pad=True,
    )
    top = torch.from_numpy(np.asarray(top, np.int64))
    keys = torch.from_numpy(truth_users).unsqueeze(1) * item_vecs.shape[0] + top
    position = torch.searchsorted(truth_keys, keys).clamp_max(len(truth_keys) - 1)
    hits = ((truth_keys[position] == keys) & (top >= 0)).sum(1).numpy()  # -1: a padded slot, never a hit
    return float((hits / truth_count[truth_users]).sum()) / len(truth_users)
