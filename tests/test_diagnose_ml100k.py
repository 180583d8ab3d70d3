"""Recall@K and NDCG@K of the SQL agree with the independent plain-Python reference to 1e-9 on an
ml-100k-sized run (synthetic: 943 users x 1,682 items, K = 20), and on real ml-100k (slow)."""

from __future__ import annotations

import numpy as np
import pytest
import reference_metrics as ref
from conftest import shared_dataset

import complement


def check_against_reference(ws, lists_by_view, truth, k):
    got = {r["view"]: r for r in complement.diagnose(ws, "metrics", k=k).to_pylist()}
    for view, lists in lists_by_view.items():
        want = ref.metrics(lists, truth, k)
        assert got[view]["n_users"] == want["n_users"]
        assert abs(got[view]["recall"] - want["recall"]) < 1e-9
        assert abs(got[view]["ndcg"] - want["ndcg"]) < 1e-9
        assert abs(got[view]["mrr"] - want["rr"]) < 1e-9


def ranked_lists(scores: np.ndarray, seen: dict, users, items, k):
    lists = {}
    for u_idx, user in enumerate(users):
        order = np.argsort(-scores[u_idx], kind="stable")
        blocked = seen.get(user, set())
        lists[user] = [items[j] for j in order[: k + len(blocked)] if items[j] not in blocked][:k]
    return lists


def build(tmp_path, users, items, interactions, k, seed):
    rng = np.random.default_rng(seed)
    seen, truth, n_train = {}, {}, {i: 0 for i in items}
    for u, i, s in interactions:
        if s == "train":
            seen.setdefault(u, set()).add(i)
            n_train[i] += 1
        elif s == "test":
            truth.setdefault(u, set()).add(i)
    popularity = np.array([n_train[i] for i in items], dtype=float)
    views = {
        "pop": ranked_lists(
            np.tile(popularity, (len(users), 1)) + rng.random((len(users), len(items))) * 1e-3, seen, users, items, k
        ),
        "noisy": ranked_lists(
            np.log1p(popularity) + rng.normal(0, 1.5, (len(users), len(items))), seen, users, items, k
        ),
    }
    case = {
        "items": items,
        "users": users,
        "interactions": interactions,
        "lists": views,
        "neighbors": {},
        "item_n_train": n_train,
        "user_n_train": {u: len(seen.get(u, ())) for u in users},
        "group_of": ref.pop_groups(n_train),
    }
    return ref.write_case(tmp_path, case), views, truth


def test_recall_and_ndcg_match_reference_on_ml100k_sized_run(tmp_path):
    rng = np.random.default_rng(3)
    users = [f"u{j}" for j in range(943)]
    items = [f"i{j}" for j in range(1682)]
    weights = 1 / (1 + np.arange(len(items))) ** 0.7
    weights /= weights.sum()
    interactions = []
    for u in users:
        chosen = rng.choice(len(items), size=int(rng.integers(20, 120)), replace=False, p=weights)
        splits = rng.choice(["train", "valid", "test"], size=len(chosen), p=[0.8, 0.1, 0.1])
        interactions += [(u, items[j], s) for j, s in zip(chosen, splits, strict=True)]
    ws, views, truth = build(tmp_path, users, items, interactions, 20, seed=4)
    check_against_reference(ws, views, truth, 20)
    assert complement.diagnose(ws, "check_no_seen_items").num_rows == 0
    assert complement.diagnose(ws, "check_topk_ranks").num_rows == 0


def real_ml100k_workspace(tmp_path):
    """ml-100k's u1 split (ratings >= 4) with the views of :func:`build`: (workspace, views, truth)."""
    folder = shared_dataset("ml-100k")
    interactions = []
    for name, split in (("u1.base", "train"), ("u1.test", "test")):
        for line in (folder / name).read_text().splitlines():
            u, i, rating, _ = line.split("\t")
            if float(rating) >= 4:
                interactions.append((f"u{u}", f"i{i}", split))
    users = sorted({u for u, _, _ in interactions})
    items = sorted({i for _, i, _ in interactions})
    return build(tmp_path, users, items, interactions, 20, seed=5)


@pytest.mark.slow
def test_recall_and_ndcg_match_reference_on_real_ml100k(tmp_path):
    ws, views, truth = real_ml100k_workspace(tmp_path)
    check_against_reference(ws, views, truth, 20)
