"""Probe metrics against hand computations."""

import numpy as np
import pytest
import torch

from complement.embed.validation import recall_at_k
from complement.probes.metrics import (
    inductive_recall,
    knn_jaccard,
    linear_cka,
    mean_cosine,
    r2_score,
    rec_jaccard,
    sample_users,
)


def test_r2_matches_hand_computation_averaged_over_dimensions():
    true = np.array([[1.0, 0.0], [2.0, 2.0], [3.0, 4.0]])
    pred = np.array([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]])
    # dim 0: ss_res = 1, ss_tot = 2 -> 0.5; dim 1: ss_res = 1, ss_tot = 8 -> 0.875
    assert r2_score(pred, true) == pytest.approx((0.5 + 0.875) / 2)


def test_r2_of_perfect_prediction_is_one_and_of_the_mean_is_zero():
    true = np.random.default_rng(0).normal(size=(10, 3))
    assert r2_score(true, true) == pytest.approx(1.0)
    assert r2_score(np.tile(true.mean(0), (10, 1)), true) == pytest.approx(0.0)


def test_r2_skips_constant_target_dimensions():
    true = np.array([[1.0, 5.0], [3.0, 5.0]])
    pred = np.array([[1.0, 0.0], [3.0, 0.0]])
    assert r2_score(pred, true) == pytest.approx(1.0)


def test_mean_cosine_matches_hand_computation():
    pred = np.array([[1.0, 0.0], [1.0, 1.0]])
    true = np.array([[2.0, 0.0], [0.0, 1.0]])
    assert mean_cosine(pred, true) == pytest.approx((1.0 + 1 / np.sqrt(2)) / 2)


def test_cka_of_identical_and_rotated_inputs_is_one():
    X = np.random.default_rng(1).normal(size=(50, 4))
    Q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(4, 4)))
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(X, 3.0 * X @ Q) == pytest.approx(1.0)


def test_cka_of_independent_inputs_is_small():
    rng = np.random.default_rng(3)
    assert linear_cka(rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3))) < 0.05


def test_knn_jaccard_matches_hand_computation():
    # true geometry: A~B and C~D are nearest pairs (k = 1, cosine)
    true = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    assert knn_jaccard(true, true, k=1) == pytest.approx(1.0)
    # move D to 45 degrees: its nearest is now B (not C) -> 0; A->B, B->A, C->D still agree -> 1 each
    pred = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.7, 0.7]])
    assert knn_jaccard(pred, true, k=1) == pytest.approx(0.75)


@pytest.mark.parametrize(("n", "k"), [(4, 3), (4, 5), (21, 20), (2, 1), (1, 1)])
def test_knn_jaccard_is_empty_when_every_other_item_is_a_neighbour(n, k):
    # with n - 1 <= k the neighbour sets are all the other items in both spaces: 1 for any mapping
    rng = np.random.default_rng(n)
    assert np.isnan(knn_jaccard(rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), k=k))
    if n > 2:
        assert not np.isnan(knn_jaccard(rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), k=n - 2))


def test_recall_at_k_masks_seen_items_and_averages_over_users_with_truth():
    users = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    items = np.array([[3.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 2.0]])
    seen = (np.array([0]), np.array([0]))  # user 0 already has item 0
    truth = (np.array([0, 1, 1]), np.array([1, 2, 3]))
    # user 0 top-1 (item 0 masked) = item 1 -> recall 1; user 1 top-1 = item 2 -> 1/2; user 2 not evaluated
    assert recall_at_k(users, items, seen, truth, k=1) == pytest.approx(0.75)


def _plain_recall(user_vecs, item_vecs, seen, truth, k):
    """Mean over users with truth of |top-k ∩ distinct truth| / |distinct truth| (plain Python)."""
    seen_of, truth_of = {}, {}
    for u, i in zip(seen[0].tolist(), seen[1].tolist(), strict=True):
        seen_of.setdefault(u, set()).add(i)
    for u, i in zip(truth[0].tolist(), truth[1].tolist(), strict=True):
        truth_of.setdefault(u, set()).add(i)
    recalls = []
    for u, relevant in sorted(truth_of.items()):
        top = _plain_top(user_vecs[u].tolist(), item_vecs.tolist(), k, seen_of.get(u, set()))
        recalls.append(len(top & relevant) / len(relevant))
    return sum(recalls) / len(recalls)


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_the_one_recall_at_k_matches_a_plain_python_computation(as_tensor, k):
    rng = np.random.default_rng(21)
    user_vecs = rng.normal(size=(12, 3)).astype(np.float32)
    item_vecs = rng.normal(size=(9, 3)).astype(np.float32)
    seen = (rng.integers(0, 12, size=20), rng.integers(0, 9, size=20))
    truth = (rng.integers(0, 10, size=25), rng.integers(0, 9, size=25))  # repeats count once; users 10, 11: none
    expected = _plain_recall(user_vecs, item_vecs, seen, truth, k)
    if as_tensor:
        user_vecs, item_vecs = torch.from_numpy(user_vecs), torch.from_numpy(item_vecs)
    assert recall_at_k(user_vecs, item_vecs, seen, truth, k) == pytest.approx(expected, abs=1e-12)


def test_inductive_recall_masks_the_seen_pairs_it_is_given_and_is_nan_without_truth():
    # one user; item 0 (its valid item) scores highest, its test item 1 second
    users = np.array([[1.0, 0.0]])
    items = np.array([[1.0, 0.0], [0.9, 0.1], [0.1, 0.9]])
    test = (np.array([0]), np.array([1]))
    train_only = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    train_and_valid = (np.array([0]), np.array([0]))
    every = np.arange(3)
    assert inductive_recall(users, items, items, every, test, train_only, k=1)["recall_true"] == 0.0
    assert inductive_recall(users, items, items, every, test, train_and_valid, k=1)["recall_true"] == 1.0
    no_truth = inductive_recall(users, items, items, np.array([2]), test, train_and_valid, k=1)
    assert np.isnan(no_truth["recall_true"]) and no_truth["n_eval_users"] == 0


def test_inductive_recall_with_perfect_mapping_has_no_drop():
    rng = np.random.default_rng(4)
    users, items = rng.normal(size=(30, 4)), rng.normal(size=(40, 4))
    test = (np.repeat(np.arange(30), 2), rng.integers(0, 40, size=60))
    train = (np.arange(30), rng.integers(0, 40, size=30))
    held = np.arange(20, 40)
    result = inductive_recall(users, items, items.copy(), held, test, train, k=5)
    assert result["recall_true"] == pytest.approx(result["recall_mapped"])
    assert result["recall_drop"] == pytest.approx(0.0)
    assert result["n_eval_users"] == len(np.unique(test[0][np.isin(test[1], held)]))


def _shrink_example():
    """One user u = (1, 0); its test item 0 is the held-out item. Scored by dot product, item 0 (1, 0)
    tops item 1 (0.9, 0.1) and item 2 (0.5, 0.3)."""
    users = np.array([[1.0, 0.0]])
    items = np.array([[1.0, 0.0], [0.9, 0.1], [0.5, 0.3], [-1.0, 0.0]])
    test = (np.array([0]), np.array([0]))
    train = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return users, items, test, train


def test_a_shrunk_but_well_aimed_mapping_loses_dot_recall_but_not_norm_matched_or_cosine_recall():
    users, items, test, train = _shrink_example()
    mapped = items * 0.1  # item 0 -> (0.1, 0): dot 0.1 < 0.9 (item 1), so it leaves the top 1
    result = inductive_recall(users, items, mapped, np.array([0]), test, train, k=1)
    assert (result["recall_true"], result["recall_mapped"], result["recall_drop"]) == (1.0, 0.0, 1.0)
    # norm-matched: (0.1, 0) rescaled to |(1, 0)| = 1 is item 0 again
    assert (result["recall_mapped_normmatched"], result["recall_drop_normmatched"]) == (1.0, 0.0)
    # cosine: cos(u, item 0) = 1 > cos(u, item 1) = 0.9 / sqrt(0.82) for true and mapped alike
    assert (result["recall_true_cos"], result["recall_mapped_cos"], result["recall_drop_cos"]) == (1.0, 1.0, 0.0)


def test_a_mapping_in_the_wrong_direction_loses_recall_however_it_is_scored():
    users, items, test, train = _shrink_example()
    mapped = items.copy()
    mapped[0] = [0.0, 5.0]  # long, but orthogonal to the user
    result = inductive_recall(users, items, mapped, np.array([0]), test, train, k=1)
    assert result["recall_drop"] == 1.0
    assert result["recall_drop_normmatched"] == 1.0
    assert result["recall_drop_cos"] == 1.0


def _plain_top(user, items, k, seen):
    """Top-k by dot product, seen items skipped, ties to the lower index (plain Python)."""
    scores = [
        (-sum(a * b for a, b in zip(user, item, strict=True)), i) for i, item in enumerate(items) if i not in seen
    ]
    return {i for _, i in sorted(scores)[:k]}


def test_rec_jaccard_matches_a_plain_python_computation():
    rng = np.random.default_rng(11)
    users, items = rng.normal(size=(25, 3)), rng.normal(size=(30, 3))
    mapped = items * 0.5 + rng.normal(scale=0.5, size=items.shape)
    item_set = np.arange(0, 30, 3)
    train = (rng.integers(0, 25, size=40), rng.integers(0, 30, size=40))
    chosen = np.array([1, 4, 7, 20, 24])
    swapped = items.tolist()
    for i in item_set.tolist():
        swapped[i] = mapped[i].tolist()
    expected = []
    for u in chosen.tolist():
        seen = {i for uu, i in zip(train[0].tolist(), train[1].tolist(), strict=True) if uu == u}
        a = _plain_top(users[u].tolist(), items.tolist(), 4, seen)
        b = _plain_top(users[u].tolist(), swapped, 4, seen)
        expected.append(len(a & b) / len(a | b))
    got = rec_jaccard(users, items, mapped, item_set, chosen, train, k=4)
    assert got == pytest.approx(sum(expected) / len(expected))
    assert 0 < got < 1
    assert rec_jaccard(users, items, items, item_set, chosen, train, k=4) == 1.0


def test_rec_jaccard_sample_is_seeded_distinct_and_everyone_when_few():
    pool = np.repeat(np.arange(50), 3)
    a, b = sample_users(pool, 10, seed=3), sample_users(pool, 10, seed=3)
    assert a.tolist() == b.tolist() and len(set(a.tolist())) == 10 and set(a.tolist()) <= set(range(50))
    assert sample_users(pool, 10, seed=4).tolist() != a.tolist()
    assert sample_users(pool, 80, seed=3).tolist() == list(range(50))
