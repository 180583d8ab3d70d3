"""The `metrics` diagnostic's means are exact DECIMAL sums over the users, so the same workspace gives the same
numbers to the last bit on every run, however DuckDB's threads happen to split the rows (a DOUBLE avg did not:
the demo's metrics.csv differed in the last digits between two runs)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from conftest import synthetic_with_random_views

from complement import diagnose


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("exact-means") / "ws"
    return synthetic_with_random_views(root, ["a", "b", "c"], dim=8, lists_k=100, users=1000, items=400, seed=5)


def test_metrics_are_the_same_to_the_last_bit_on_every_run(ws):
    runs = {
        tuple((r["k"], r["view"], r["recall"], r["precision"], r["hit_rate"], r["ndcg"], r["mrr"]) for r in rows)
        for rows in (diagnose(ws, "metrics", k=[10, 50]).to_pylist() for _ in range(12))
    }
    assert len(runs) == 1


def test_recall_is_the_exact_mean_of_the_users_recalls(ws):
    """Against a plain-Python count over the test items and the lists (exact fractions)."""
    truth: dict[int, set[int]] = {}
    for row in ws.query("SELECT user_idx, item_idx FROM interactions WHERE split = 'test'").to_pylist():
        truth.setdefault(row["user_idx"], set()).add(row["item_idx"])
    lists: dict[int, set[int]] = {}
    for row in ws.query("SELECT user_idx, item_idx FROM topk WHERE view = 'a' AND rank <= 10").to_pylist():
        lists.setdefault(row["user_idx"], set()).add(row["item_idx"])
    exact = sum(Fraction(len(lists.get(u, set()) & t), len(t)) for u, t in truth.items()) / len(truth)
    row = next(r for r in diagnose(ws, "metrics", k=10).to_pylist() if r["view"] == "a")
    assert row["n_users"] == len(truth)
    assert row["recall"] == pytest.approx(float(exact), abs=1e-15)
