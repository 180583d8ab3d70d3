"""Fusing two list views (no vectors) by their stored lists: RRF and score fusion on a hand case."""

from __future__ import annotations

import pytest
from test_interop_import import lists_of, make_ws

from complement.errors import DataError
from complement.interop.fuse_lists import fuse_lists


def two_views(tmp_path):
    ws = make_ws(tmp_path)
    from complement import interop

    # u1 (train i1): A = i2 0.9, i3 0.5, i1 0.4 (masked), B = i3 3, i5 1 ; u2 only in A
    (tmp_path / "a.trec").write_text("u1 Q0 i2 1 0.9 a\nu1 Q0 i3 2 0.5 a\nu1 Q0 i1 3 0.4 a\nu2 Q0 i6 1 1.0 a\n")
    (tmp_path / "b.trec").write_text("u1 Q0 i3 1 3 b\nu1 Q0 i5 2 1 b\n")
    interop.import_topk(ws, tmp_path / "a.trec", "a")
    interop.import_topk(ws, tmp_path / "b.trec", "b")
    return ws


def test_rrf_of_lists_sums_reciprocal_ranks_and_drops_masked_items(tmp_path):
    ws = two_views(tmp_path)
    fuse_lists(ws, "a", "b", "rrf", "ab", rrf_k=1)
    # u1: i2 = 1/2, i3 = 1/3 + 1/2, i5 = 1/3; i1 is a train item of u1
    rows = ws.query("SELECT user_id, item_id, score FROM topk WHERE view = 'ab' ORDER BY user_id, rank").to_pylist()
    assert [(r["user_id"], r["item_id"]) for r in rows] == [("u1", "i3"), ("u1", "i2"), ("u1", "i5"), ("u2", "i6")]
    assert rows[0]["score"] == pytest.approx(1 / 3 + 1 / 2)
    assert rows[1]["score"] == pytest.approx(1 / 2)


def test_minmax_score_fusion_of_lists_by_hand(tmp_path):
    ws = two_views(tmp_path)
    fuse_lists(ws, "a", "b", "score", "ab", norm="minmax", weight=0.5)
    # u1 A minmax over (0.9, 0.5, 0.4): i2 1, i3 0.2, i1 0; B over (3, 1): i3 1, i5 0; missing -> list min (0)
    # fused: i3 0.6, i2 0.5, i5 0
    assert lists_of(ws, "ab")["u1"] == ["i3", "i2", "i5"]
    score = ws.query("SELECT score FROM topk WHERE view = 'ab' AND item_id = 'i3'").column(0)[0].as_py()
    assert score == pytest.approx(0.6)


def test_score_fusion_refuses_rank_only_lists(tmp_path):
    ws = two_views(tmp_path)
    (tmp_path / "c.csv").write_text("user,item\nu1,i2\n")
    from complement import interop

    interop.import_topk(ws, tmp_path / "c.csv", "c")
    with pytest.raises(DataError, match="--method rrf"):
        fuse_lists(ws, "a", "c", "score", "ac")


def test_zscore_fusion_of_lists_is_the_same_to_the_last_bit_on_every_run(tmp_path, monkeypatch):
    # Views stored as user buckets with small row groups, so users' lists span two row groups and DuckDB's
    # threads read them in parts: a DOUBLE avg()/stddev_pop() per list then depended on the order the parts
    # were added (8 different score columns over 8 runs before the fix). minmax takes only min and max.
    from conftest import synthetic_with_random_views

    from complement import tables

    monkeypatch.setattr(tables, "BUCKET_ROWS", 20_000)
    monkeypatch.setattr(tables, "ROW_GROUP_ROWS", 1_003)
    ws = synthetic_with_random_views(tmp_path / "ws", ["a", "b"], dim=8, lists_k=50, users=1500, items=400, seed=11)
    runs = set()
    for _ in range(6):
        fuse_lists(ws, "a", "b", "score", "ab", norm="zscore", weight=0.3)
        rows = ws.query("SELECT user_id, rank, item_id, score FROM topk WHERE view = 'ab' ORDER BY 1, 2")
        runs.add(repr(rows.to_pylist()))
    assert len(runs) == 1
