"""fusion_gap.sql against numbers computed by hand on a tiny workspace."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest
from reference_metrics import interactions_table, write_lists

import complement
from complement import Workspace

POP = {"i0": "cold", "i1": "hot", "i2": "cold", "i3": "cold", "i4": "mid", "i5": "hot"}
TEST = {"u0": ["i0", "i1"], "u1": ["i2", "i3", "i4"]}
LISTS = {  # view -> user -> ranked list (k = 2 cuts after the second item)
    "a": {"u0": ["i0", "i5", "i1"], "u1": ["i2", "i5"]},
    "b": {"u0": ["i1", "i5"], "u1": ["i3", "i4"]},
    "f": {"u0": ["i0", "i1"], "u1": ["i2", "i5"]},
    "g": {"u0": ["i0", "i1"]},  # no list for u1: zero hits
}


@pytest.fixture
def tiny(tmp_path):
    ws = Workspace(tmp_path)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": list(POP),
                "item_idx": list(range(6)),
                "title": list(POP),
                "text": list(POP),
                "n_train": [1] * 6,
                "pop_group": list(POP.values()),
            }
        ),
    )
    ws.write_table("users", pa.table({"user_id": ["u0", "u1", "u2"], "user_idx": [0, 1, 2], "n_train": [1, 1, 1]}))
    rows = [(u, i, "test") for u, items in TEST.items() for i in items] + [("u2", "i5", "train"), ("u0", "i4", "train")]
    ws.write_table(
        "interactions",
        interactions_table(rows),
    )
    write_lists(ws, LISTS)
    return ws


def _rows(ws, **params):
    table = complement.diagnose(ws, "fusion_gap", view_a="a", view_b="b", k=2, **params)
    return {(r["view"], r["pop_group"]): r for r in table.to_pylist()}


def test_fusion_gap_overall_matches_hand_computation(tiny):
    rows = _rows(tiny)
    f = rows[("f", "all")]
    # u0: T={i0,i1}: R_A = 1/2, R_B = 1/2, union hits 2 -> min(2,2)/2 = 1, R_F = 1
    # u1: T={i2,i3,i4}: R_A = 1/3, R_B = 2/3, union hits 3 -> min(3,2)/3 = 2/3, R_F = 1/3
    assert f["n_users"] == 2
    assert f["recall_a"] == pytest.approx(5 / 12)
    assert f["recall_b"] == pytest.approx(7 / 12)
    assert f["best_single"] == pytest.approx(7 / 12)
    assert f["union_at_k"] == pytest.approx(10 / 12)
    assert f["best_view"] == pytest.approx(7 / 12)
    assert f["recall"] == pytest.approx(8 / 12)
    assert f["gain"] == pytest.approx(1 / 12)
    assert f["share_of_union_at_k_gain"] == pytest.approx((8 / 12 - 7 / 12) / (10 / 12 - 7 / 12))
    assert f["share_of_best_view_gain"] is None  # best_view == best_single
    idcg2 = 1 + 1 / math.log2(3)
    assert f["ndcg"] == pytest.approx((1 + 1 / idcg2) / 2)


def test_fusion_gap_per_pop_group_restricts_truth_to_the_group(tiny):
    rows = _rows(tiny)
    cold, mid, hot = rows[("f", "cold")], rows[("f", "mid")], rows[("f", "hot")]
    # cold: u0 T={i0}: A 1, B 0, F 1;  u1 T={i2,i3}: A 1/2, B 1/2, union 2 -> 1, F 1/2
    assert (cold["n_users"], cold["recall_a"], cold["recall_b"]) == (2, pytest.approx(3 / 4), pytest.approx(1 / 4))
    assert (cold["union_at_k"], cold["best_view"], cold["recall"]) == (
        pytest.approx(1.0),
        pytest.approx(3 / 4),
        pytest.approx(3 / 4),
    )
    assert cold["share_of_union_at_k_gain"] == pytest.approx(0.0)
    # mid: u1 T={i4}: only B finds it, F does not
    assert (mid["n_users"], mid["recall_a"], mid["recall_b"], mid["recall"]) == (1, 0.0, 1.0, 0.0)
    assert mid["share_of_union_at_k_gain"] is None
    # hot: u0 T={i1}: A lists it only at rank 3 (> k), B and F find it
    assert (hot["n_users"], hot["recall_a"], hot["recall_b"], hot["recall"]) == (1, 0.0, 1.0, 1.0)


def test_fusion_gap_defaults_to_every_other_view_and_counts_missing_lists_as_misses(tiny):
    rows = _rows(tiny)
    assert sorted({view for view, _ in rows}) == ["f", "g"]
    assert [group for view, group in rows if view == "f"] == ["all", "cold", "mid", "hot"]
    assert rows[("g", "all")]["recall"] == pytest.approx(1 / 2)  # u0 = 1, u1 has no list = 0


def test_fusion_gap_views_parameter_selects_fused_views(tiny):
    rows = _rows(tiny, views=["g"])
    assert sorted({view for view, _ in rows}) == ["g"]


def _many_users(root, users: int = 3000, items: int = 200, seed: int = 0) -> Workspace:
    """Users with 1-9 test items each, two random views a and b, and c: a copy of a's lists under another name."""
    import random

    rng = random.Random(seed)
    ws = Workspace(root)
    names = [f"i{j}" for j in range(items)]
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": names,
                "item_idx": list(range(items)),
                "title": names,
                "text": names,
                "n_train": [1] * items,
                "pop_group": [("cold", "mid", "hot")[j % 3] for j in range(items)],
            }
        ),
    )
    user_ids = [f"u{j}" for j in range(users)]
    ws.write_table("users", pa.table({"user_id": user_ids, "user_idx": list(range(users)), "n_train": [1] * users}))
    rows = [(u, i) for u in user_ids for i in rng.sample(names, rng.randint(1, 9))]
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": [u for u, _ in rows],
                "item_id": [i for _, i in rows],
                "ts": pa.array([None] * len(rows), pa.int64()),
                "rating": pa.array([None] * len(rows), pa.float64()),
                "split": ["test"] * len(rows),
            }
        ),
    )
    lists = {view: {u: rng.sample(names, 20) for u in user_ids} for view in ("a", "b")}
    lists["c"] = lists["a"]
    write_lists(ws, lists)
    return ws


def test_a_view_equal_to_the_best_single_view_has_gain_and_share_exactly_zero(tmp_path):
    # c's lists are a's, the better view in every scope but mid: its recall equals best_single there, and its
    # gain and shares must be exactly 0 (a DOUBLE avg summed in two groups left residues like -4.7e-15)
    ws = _many_users(tmp_path)
    rows = {r["pop_group"]: r for r in complement.diagnose(ws, "fusion_gap", view_a="a", view_b="b", k=20).to_pylist()}
    equal = [group for group, r in rows.items() if r["recall_a"] >= r["recall_b"]]
    assert "all" in equal
    for group in equal:
        r = rows[group]
        assert r["recall"] == r["best_single"] == r["recall_a"], group
        assert (r["gain"], r["share_of_union_at_k_gain"], r["share_of_best_view_gain"]) == (0.0, 0.0, 0.0), group
