"""Probe metrics against hand computations."""

import numpy as np
import pytest

from complement.probes.metrics import (
    inductive_recall,
    knn_jaccard,
    linear_cka,
    mean_cosine,
    r2_score,
    recall_at_k,
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


def test_recall_at_k_masks_seen_items_and_averages_over_users_with_truth():
    users = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    items = np.array([[3.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 2.0]])
    seen = (np.array([0]), np.array([0]))  # user 0 already has item 0
    truth = (np.array([0, 1, 1]), np.array([1, 2, 3]))
    # user 0 top-1 (item 0 masked) = item 1 -> recall 1; user 1 top-1 = item 2 -> 1/2; user 2 not evaluated
    assert recall_at_k(users, items, truth, seen, k=1) == pytest.approx(0.75)


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
