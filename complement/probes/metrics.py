"""Probe metrics: how close mapped target vectors are to the true ones, and what that costs a recommender.

Every function takes ``pred`` and ``true`` as ``n x d`` arrays over the same items (rows aligned)."""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def r2_score(pred: np.ndarray, true: np.ndarray) -> float:
    """Coefficient of determination, uniform average over target dimensions:
    ``mean_j [1 − Σ_i (ŷ_ij − y_ij)² / Σ_i (y_ij − ȳ_j)²]`` (sklearn's ``multioutput="uniform_average"``).
    Dimensions with zero variance over these items are left out; NaN when none are left."""
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    ss_tot = ((true - true.mean(0)) ** 2).sum(0)
    ss_res = ((pred - true) ** 2).sum(0)
    keep = ss_tot > EPS * max(1.0, float(ss_tot.max(initial=0.0)))
    if len(true) < 2 or not keep.any():
        return float("nan")
    return float(np.mean(1.0 - ss_res[keep] / ss_tot[keep]))


def mean_cosine(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean over items of ``cos(ŷ_i, y_i) = ŷ_i·y_i / (‖ŷ_i‖ ‖y_i‖)``."""
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    if len(true) == 0:
        return float("nan")
    num = (pred * true).sum(1)
    den = np.linalg.norm(pred, axis=1) * np.linalg.norm(true, axis=1)
    return float(np.mean(num / np.maximum(den, EPS)))


def _cosine_knn(vectors: np.ndarray, k: int) -> np.ndarray:
    """Row i: indices of the ``k`` most cosine-similar other rows (self excluded)."""
    import torch

    v = torch.as_tensor(np.asarray(vectors, np.float32))
    v = v / v.norm(dim=1, keepdim=True).clamp_min(EPS)
    sims = v @ v.T
    sims.fill_diagonal_(-float("inf"))
    return torch.topk(sims, k, dim=1).indices.numpy()


def knn_jaccard(pred: np.ndarray, true: np.ndarray, k: int = 20) -> float:
    """Mean over items of ``|N_pred(i) ∩ N_true(i)| / |N_pred(i) ∪ N_true(i)|`` where ``N_v(i)`` is the
    set of i's ``k`` cosine-nearest *other* items of the same set in space v (k capped at n − 1)."""
    n = len(true)
    k = min(k, n - 1)
    if k < 1:
        return float("nan")
    a, b = _cosine_knn(pred, k), _cosine_knn(true, k)
    scores = [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a.tolist(), b.tolist())]
    return float(np.mean(scores))


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear centred kernel alignment (Kornblith et al., 2019, eq. 3):
    ``‖Yᶜᵀ Xᶜ‖²_F / (‖Xᶜᵀ Xᶜ‖_F ‖Yᶜᵀ Yᶜ‖_F)`` with column-centred ``Xᶜ``, ``Yᶜ``; 1 for identical inputs,
    invariant to rotations and isotropic scaling."""
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    X = X - X.mean(0)
    Y = Y - Y.mean(0)
    den = np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)
    if len(X) < 2 or den < EPS:
        return float("nan")
    return float(np.linalg.norm(Y.T @ X) ** 2 / den)


def _topk(user_vecs: np.ndarray, item_vecs: np.ndarray, k: int, seen, device) -> np.ndarray:
    """Top-k item indices per user (seen pairs masked, -1 where a user has fewer unmasked items),
    from the project's exact scoring kernel."""
    from ..scoring.kernels import topk_indices

    return topk_indices(user_vecs, item_vecs, k, seen=seen, device=device or "cpu", pad=True)[0]


def recall_at_k(
    user_vecs: np.ndarray,
    item_vecs: np.ndarray,
    truth: tuple[np.ndarray, np.ndarray],
    seen: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    device=None,
) -> float:
    """Mean Recall@k = ``|L_k(u) ∩ T(u)| / |T(u)|`` over users with ``T(u)`` non-empty.

    Scores are dot products of user and item vectors over **all** items; ``seen`` (user, item)
    pairs are never ranked; ``truth`` and ``seen`` are ``(user_idx, item_idx)`` arrays."""
    if len(truth[0]) == 0:
        return float("nan")
    pairs = np.unique(np.stack([np.asarray(truth[0], np.int64), np.asarray(truth[1], np.int64)], axis=1), axis=0)
    t_users, t_items = pairs[:, 0], pairs[:, 1]
    users = np.unique(t_users)
    row_of = np.full(len(user_vecs), -1, dtype=np.int64)
    row_of[users] = np.arange(len(users))
    seen_rows = row_of[np.asarray(seen[0], np.int64)]
    keep = seen_rows >= 0
    seen_sub = (seen_rows[keep], np.asarray(seen[1], np.int64)[keep])
    top = _topk(np.asarray(user_vecs)[users], item_vecs, min(k, item_vecs.shape[0]), seen_sub, device)
    hits = np.zeros(len(users))
    truth_rows = row_of[t_users]
    top_sets = [set(row.tolist()) for row in top]
    for r, i in zip(truth_rows.tolist(), t_items.tolist()):
        hits[r] += i in top_sets[r]
    sizes = np.bincount(truth_rows, minlength=len(users))
    return float(np.mean(hits / sizes))


def inductive_recall(
    user_vecs: np.ndarray,
    true_items: np.ndarray,
    mapped_items: np.ndarray,
    item_set: np.ndarray,
    test: tuple[np.ndarray, np.ndarray],
    train: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    device=None,
) -> dict[str, float]:
    """Inductive Recall@k of mapped item vectors on the items of ``item_set``.

    Protocol: target-view users are scored against ALL items twice — (a) with the true target item
    vectors, (b) with the rows of ``item_set`` replaced by their mapped vectors (every other item
    keeps its true vector). Train items are masked; the truth is each user's *test* interactions
    with items of ``item_set``; users without such an interaction are not evaluated.
    Returns ``recall_true``, ``recall_mapped``, ``recall_drop = (true − mapped) / true`` and
    ``n_eval_users``."""
    keep = np.isin(test[1], item_set)
    truth = (test[0][keep], test[1][keep])
    swapped = np.array(true_items, np.float32, copy=True)
    swapped[item_set] = mapped_items[item_set]
    true_recall = recall_at_k(user_vecs, true_items, truth, train, k, device)
    mapped_recall = recall_at_k(user_vecs, swapped, truth, train, k, device)
    drop = (true_recall - mapped_recall) / true_recall if true_recall > 0 else float("nan")
    return {
        "recall_true": true_recall,
        "recall_mapped": mapped_recall,
        "recall_drop": drop,
        "n_eval_users": float(len(np.unique(truth[0]))),
    }
