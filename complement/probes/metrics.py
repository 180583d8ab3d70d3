"""Probe metrics: how close mapped target vectors are to the true ones, and what that costs a recommender.

Every function takes ``pred`` and ``true`` as ``n x d`` arrays over the same items (rows aligned).
Recall@K is the training loop's own (:func:`complement.embed.validation.recall_at_k`); ``seen`` is what
the evaluation protocol masks in a top-K list: train + valid when the truth is the test split."""

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


def knn_jaccard(pred: np.ndarray, true: np.ndarray, k: int = 20, memo: dict | None = None) -> float:
    """Mean over items of ``|N_pred(i) ∩ N_true(i)| / |N_pred(i) ∪ N_true(i)|`` where ``N_v(i)`` is the
    set of i's ``k`` cosine-nearest *other* items of the same set in space v. NaN when the set has no more
    than ``k + 1`` items: every other item is then a neighbour in both spaces, and the score would be 1
    whatever the mapping (a cold or held-out set of 20 items at k = 20 did that).

    ``memo``: a dict kept for one ``true`` (one item set) across calls; the true neighbours, which do not
    depend on ``pred``, are computed once into it and reused."""
    n = len(true)
    if k < 1 or n - 1 <= k:
        return float("nan")
    b = _remembered(memo, ("true_knn", k), lambda: _cosine_knn(true, k))
    a = _cosine_knn(pred, k)
    scores = [len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
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


def _remembered(memo: dict | None, key, compute):
    """``memo[key]``, computed by ``compute()`` on first use; ``compute()`` alone without a memo."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), EPS)


def inductive_recall(
    user_vecs: np.ndarray,
    true_items: np.ndarray,
    mapped_items: np.ndarray,
    item_set: np.ndarray,
    test: tuple[np.ndarray, np.ndarray],
    seen: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    device=None,
    memo: dict | None = None,
) -> dict[str, float]:
    """Inductive Recall@k of mapped item vectors on the items of ``item_set``, three ways.

    Protocol: target-view users are scored against ALL items twice — (a) with the true target item
    vectors, (b) with the rows of ``item_set`` replaced by their mapped vectors (every other item
    keeps its true vector). The ``seen`` pairs are masked (the evaluation protocol's: train + valid);
    the truth is each user's *test* interactions with items of ``item_set``; users without such an
    interaction are not evaluated (every recall is NaN when none has one).

    - dot product (the target view's own scoring): ``recall_true``, ``recall_mapped``,
      ``recall_drop = (true − mapped) / true``;
    - norm-matched: each mapped vector rescaled to its true vector's norm, then dot product —
      only the direction of the map counts (``recall_mapped_normmatched``, ``recall_drop_normmatched``;
      the baseline is ``recall_true``);
    - cosine: every item vector (true and mapped) scaled to unit length before scoring, so no item's
      norm counts (``recall_true_cos``, ``recall_mapped_cos``, ``recall_drop_cos``).

    Also ``n_eval_users``. ``memo``: a dict kept for one (``true_items``, ``item_set``, ``test``, ``seen``)
    across mappers; the two recalls of the true vectors, which do not depend on the mapping, are computed
    once into it."""
    from ..embed.validation import recall_at_k

    keep = np.isin(test[1], item_set)
    truth = (test[0][keep], test[1][keep])
    true_items = np.asarray(true_items, np.float32)
    mapped_set = np.asarray(mapped_items, np.float32)[item_set]
    swapped = true_items.copy()
    swapped[item_set] = mapped_set
    matched = true_items.copy()
    ratio = np.linalg.norm(true_items[item_set], axis=1) / np.maximum(np.linalg.norm(mapped_set, axis=1), EPS)
    matched[item_set] = mapped_set * ratio[:, None]

    def recall(items: np.ndarray) -> float:
        if len(truth[0]) == 0:
            return float("nan")
        return recall_at_k(user_vecs, items, seen, truth, k, device=device)

    def drop(base: float, other: float) -> float:
        return (base - other) / base if base > 0 else float("nan")

    true_recall = _remembered(memo, ("recall_true", k), lambda: recall(true_items))
    true_cos = _remembered(memo, ("recall_true_cos", k), lambda: recall(_unit_rows(true_items)))
    mapped_recall, matched_recall, mapped_cos = recall(swapped), recall(matched), recall(_unit_rows(swapped))
    return {
        "recall_true": true_recall,
        "recall_mapped": mapped_recall,
        "recall_drop": drop(true_recall, mapped_recall),
        "recall_mapped_normmatched": matched_recall,
        "recall_drop_normmatched": drop(true_recall, matched_recall),
        "recall_true_cos": true_cos,
        "recall_mapped_cos": mapped_cos,
        "recall_drop_cos": drop(true_cos, mapped_cos),
        "n_eval_users": float(len(np.unique(truth[0]))),
    }


def sample_users(users: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A seeded sample of ``n`` distinct ids from ``users`` (all of them when there are at most ``n``), sorted."""
    users = np.unique(np.asarray(users, np.int64))
    if len(users) <= n:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, size=n, replace=False))


def rec_jaccard(
    user_vecs: np.ndarray,
    true_items: np.ndarray,
    mapped_items: np.ndarray,
    item_set: np.ndarray,
    users: np.ndarray,
    seen: tuple[np.ndarray, np.ndarray],
    k: int = 20,
    device=None,
    memo: dict | None = None,
) -> float:
    """Rec Jaccard@k: mean over ``users`` of ``|L_true(u) ∩ L_mapped(u)| / |L_true(u) ∪ L_mapped(u)|``.

    ``L_true(u)`` is u's top-k over all items scored (dot product) with the true target item vectors,
    ``L_mapped(u)`` the same with the rows of ``item_set`` replaced by their mapped vectors (pass every
    item index to map the whole catalogue). The ``seen`` pairs (train + valid, as in the evaluation
    protocol's lists) are masked in both lists. ``memo``: a dict kept for one (``user_vecs``,
    ``true_items``, ``users``, ``seen``) across mappers and item sets; ``L_true`` is computed once into it."""
    from ..embed.validation import seen_rows

    users = np.asarray(users, np.int64)
    if len(users) == 0:
        return float("nan")
    true_items = np.asarray(true_items, np.float32)
    swapped = true_items.copy()
    swapped[item_set] = np.asarray(mapped_items, np.float32)[item_set]
    seen_sub = seen_rows(seen, users)
    k = min(k, true_items.shape[0])
    sub = np.asarray(user_vecs)[users]
    a = _remembered(memo, ("true_lists", k), lambda: _topk(sub, true_items, k, seen_sub, device))
    b = _topk(sub, swapped, k, seen_sub, device)
    scores = []
    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        x, y = {i for i in x if i >= 0}, {i for i in y if i >= 0}
        scores.append(len(x & y) / len(x | y) if x | y else 1.0)
    return float(np.mean(scores))
