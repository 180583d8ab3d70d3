"""Sampled validation Recall@20: a fixed, seeded user sample; the full computation when it covers everyone."""

from __future__ import annotations

import numpy as np
import torch

from complement.embed.train import recall_at_k, validation_users


def _reference_recall(scores: np.ndarray, seen, truth, users, k: int) -> float:
    """Plain-Python Recall@k over ``users`` that have truth: stable descending order, seen items skipped."""
    seen_sets, truth_sets = {}, {}
    for u, i in zip(*seen, strict=True):
        seen_sets.setdefault(int(u), set()).add(int(i))
    for u, i in zip(*truth, strict=True):
        truth_sets.setdefault(int(u), set()).add(int(i))
    recalls = []
    for u in sorted(set(truth_sets) & {int(u) for u in users}):
        ranked = sorted(range(scores.shape[1]), key=lambda i: -scores[u, i])
        top = [i for i in ranked if i not in seen_sets.get(u, set())][:k]
        recalls.append(len(set(top) & truth_sets[u]) / len(truth_sets[u]))
    return sum(recalls) / len(recalls)


def _case(seed: int = 3, n_users: int = 40, n_items: int = 30):
    rng = np.random.default_rng(seed)
    user_vecs = rng.normal(size=(n_users, 4)).astype(np.float32)
    item_vecs = rng.normal(size=(n_items, 4)).astype(np.float32)
    seen = (rng.integers(0, n_users, 200), rng.integers(0, n_items, 200))
    truth = (rng.integers(0, n_users - 5, 60), rng.integers(0, n_items, 60))  # the last 5 users have no truth
    return user_vecs, item_vecs, seen, truth


def test_validation_sample_is_deterministic_for_a_seed_and_drawn_from_truth_users():
    truth_users = np.array([9, 3, 3, 7, 1, 12, 5, 9, 20, 4])
    first, again = validation_users(truth_users, 4, seed=11), validation_users(truth_users, 4, seed=11)
    assert first.tolist() == again.tolist()
    assert len(first) == 4 and len(set(first.tolist())) == 4
    assert set(first.tolist()) <= set(truth_users.tolist())
    assert first.tolist() == sorted(first.tolist())
    draws = {tuple(validation_users(truth_users, 4, seed=s).tolist()) for s in range(20)}
    assert len(draws) > 1  # the seed matters


def test_validation_sample_covering_every_user_is_all_of_them():
    truth_users = np.array([5, 2, 2, 8])
    assert validation_users(truth_users, 3).tolist() == [2, 5, 8]
    assert validation_users(truth_users, 100).tolist() == [2, 5, 8]
    assert validation_users(truth_users, 0).tolist() == [2, 5, 8]


def test_sampled_recall_equals_full_recall_when_the_sample_covers_every_user():
    user_vecs, item_vecs, seen, truth = _case()
    everyone = validation_users(truth[0], 10_000)
    args = (torch.from_numpy(user_vecs), torch.from_numpy(item_vecs), seen, truth, 5)
    full = recall_at_k(*args)
    assert recall_at_k(*args, users=everyone) == full
    assert abs(full - _reference_recall(user_vecs @ item_vecs.T, seen, truth, range(40), 5)) < 1e-12


def test_sampled_recall_averages_over_the_sampled_users_only():
    user_vecs, item_vecs, seen, truth = _case(seed=5)
    sample = validation_users(truth[0], 7, seed=2)
    got = recall_at_k(
        torch.from_numpy(user_vecs), torch.from_numpy(item_vecs), seen, truth, 5, chunk_size=3, users=sample
    )
    expected = _reference_recall(user_vecs @ item_vecs.T, seen, truth, sample, 5)
    assert abs(got - expected) < 1e-12


def test_a_bad_validation_sample_size_is_a_clear_error_before_anything_is_read(tmp_path):
    import pytest

    from complement.embed.train import train_view
    from complement.errors import ConfigError
    from complement.workspace import Workspace

    for bad, says in (("all", "must be an integer"), (-1, "at least 0"), (2.5, "must be an integer")):
        with pytest.raises(ConfigError, match=says):
            train_view(Workspace(tmp_path), "lightgcn", valid_users=bad)


def test_recall_with_fewer_unseen_items_than_k_counts_no_padded_slot_as_a_hit():
    # 3 items, user 1 has seen 2 of them: its top-2 has one padded slot; user 0's truth is item 2
    user_vecs = torch.tensor([[1.0], [1.0]])
    item_vecs = torch.tensor([[3.0], [2.0], [1.0]])
    seen = (np.array([1, 1]), np.array([0, 1]))
    truth = (np.array([0, 1]), np.array([2, 2]))
    # user 0: top-2 = items 0, 1 -> miss; user 1: top-2 = item 2 (+ padding) -> hit
    assert recall_at_k(user_vecs, item_vecs, seen, truth, 2) == 0.5


def test_recall_of_diverged_vectors_does_not_raise():
    user_vecs = torch.tensor([[float("nan")], [1.0]])
    item_vecs = torch.tensor([[3.0], [2.0], [1.0]])
    got = recall_at_k(user_vecs, item_vecs, (np.array([1]), np.array([0])), (np.array([1]), np.array([1])), 1)
    assert got == 1.0
