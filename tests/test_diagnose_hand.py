"""Small workspaces whose expected numbers are computed by hand, and the check_* audits."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest
import reference_metrics as ref

import complement
from complement.errors import ComplementError, WorkspaceError
from complement.runs import RunRecord, append_run


def hand_case() -> dict:
    # u1: T = {i1, i2}; u2: T = {i3}; u3 has no test items (not evaluated) and no list in view b.
    return {
        "items": ["i1", "i2", "i3", "i4", "i5", "i6"],
        "users": ["u1", "u2", "u3"],
        "interactions": [("u1", "i1", "test"), ("u1", "i2", "test"), ("u2", "i3", "test"), ("u3", "i6", "train")],
        "lists": {
            "a": {"u1": ["i1", "i4", "i2"], "u2": ["i5", "i6", "i4"], "u3": ["i1", "i2", "i3"]},
            "b": {"u1": ["i4", "i1", "i5"], "u2": ["i3", "i5", "i6"]},
        },
        "item_n_train": {"i1": 9, "i2": 0, "i3": 3, "i4": 1, "i5": 1, "i6": 1},
        "user_n_train": {"u1": 0, "u2": 3, "u3": 1},
        "group_of": {"i1": "hot", "i2": "cold", "i3": "mid", "i4": "cold", "i5": "cold", "i6": "cold"},
        "neighbors": {},
    }


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return ref.write_case(tmp_path_factory.mktemp("hand"), hand_case())


def by(table, key):
    return {r[key]: r for r in table.to_pylist()}


IDCG2 = 1 + 1 / math.log2(3)  # 1.6309297535714575


def test_metrics_by_hand(ws):
    rows = by(complement.diagnose(ws, "metrics", k=3), "view")
    a, b = rows["a"], rows["b"]
    # a: u1 hits i1@1, i2@3 (DCG 1 + 1/2); u2 no hit.
    assert a["n_users"] == 2
    assert a["recall"] == pytest.approx(0.5) and a["precision"] == pytest.approx(1 / 3)
    assert a["hit_rate"] == pytest.approx(0.5) and a["mrr"] == pytest.approx(0.5)
    assert a["ndcg"] == pytest.approx(0.5 * 1.5 / IDCG2) == pytest.approx(0.45986039457)
    # b: u1 hits i1@2; u2 hits i3@1.
    assert b["recall"] == pytest.approx(0.75) and b["hit_rate"] == pytest.approx(1.0)
    assert b["mrr"] == pytest.approx(0.75)
    assert b["ndcg"] == pytest.approx(0.5 * (1 / math.log2(3) / IDCG2 + 1.0)) == pytest.approx(0.69342640362)


def test_two_views_by_hand(ws):
    views = {"view_a": "a", "view_b": "b", "k": 3}
    overlap = by(complement.diagnose(ws, "overlap", **views), "statistic")
    assert overlap["jaccard"]["mean"] == pytest.approx(0.5)  # both users: 2 shared of 4
    assert overlap["overlap_at_k"]["mean"] == pytest.approx(2 / 3)
    users = by(complement.diagnose(ws, "user_complementarity", **views), "user_group")
    assert [users[g]["n_users"] for g in ("both", "a_only", "b_only", "none")] == [1, 0, 1, 0]
    assert users["b_only"]["mean_log_train"] == pytest.approx(math.log(4))
    assert users["a_only"]["mean_log_train"] is None
    (hits,) = complement.diagnose(ws, "unique_hits", **views).to_pylist()
    assert (hits["common"], hits["a_only"], hits["b_only"]) == (1, 1, 1)  # i1 | i2 | i3
    assert hits["complementary_hit_ratio"] == pytest.approx(2 / 3)
    assert hits["log_pop_common"] == pytest.approx(math.log(10))
    assert hits["log_pop_a_only"] == pytest.approx(0.0)
    assert hits["log_pop_b_only"] == pytest.approx(math.log(4))


def test_oracle_by_hand(ws):
    rows = by(complement.diagnose(ws, "oracle", view_a="a", view_b="b", k=3), "pop_group")
    assert list(rows) == ["all", "cold", "mid", "hot"]
    everyone = rows["all"]
    assert (everyone["recall_a"], everyone["recall_b"], everyone["best_single"]) == pytest.approx((0.5, 0.75, 0.75))
    assert (everyone["union"], everyone["union_at_k"], everyone["best_view"]) == pytest.approx((1.0, 1.0, 1.0))
    assert everyone["union_gain"] == pytest.approx(0.25)
    # cold: only u1 (T = {i2}), found by a only; mid: only u2 (T = {i3}), found by b only.
    assert (rows["cold"]["n_users"], rows["cold"]["recall_a"], rows["cold"]["recall_b"]) == (1, 1.0, 0.0)
    assert (rows["mid"]["n_users"], rows["mid"]["recall_a"], rows["mid"]["recall_b"]) == (1, 0.0, 1.0)


def test_union_at_k_is_capped_by_k_slots(tmp_path):
    case = hand_case()
    case["interactions"] = [("u1", "i1", "test"), ("u1", "i2", "test")]
    case["lists"] = {"a": {"u1": ["i1"]}, "b": {"u1": ["i2"]}}
    ws = ref.write_case(tmp_path, case)
    (row, *_) = complement.diagnose(ws, "oracle", view_a="a", view_b="b", k=1).to_pylist()
    assert (row["union"], row["union_at_k"], row["best_view"]) == pytest.approx((1.0, 0.5, 0.5))


def test_coverage_by_hand(ws):
    rows = by(complement.diagnose(ws, "coverage", k=1), "view")
    # a recommends i1 (u1, u3) and i5 (u2): exposure over 6 items = [0,0,0,0,1,2]
    a = rows["a"]
    assert (a["n_items"], a["n_recommended"], a["coverage"]) == (6, 2, pytest.approx(2 / 6))
    assert a["gini"] == pytest.approx(((2 * 5 - 7) * 1 + (2 * 6 - 7) * 2) / (6 * 3))
    assert a["mean_pop"] == pytest.approx((9 + 9 + 1) / 3)


def test_metrics_views_filter_and_unknown_view(ws):
    assert complement.diagnose(ws, "metrics", views=["b"]).column("view").to_pylist() == ["b"]
    with pytest.raises(WorkspaceError, match="view 'c' is not in the 'topk' table"):
        complement.diagnose(ws, "metrics", views=["c"])


def test_parameter_errors_are_one_line(ws):
    with pytest.raises(ComplementError, match="did you mean 'overlap'"):
        complement.diagnose(ws, "overlpa")
    with pytest.raises(ComplementError, match="needs parameter view_a"):
        complement.diagnose(ws, "overlap")
    with pytest.raises(ComplementError, match="has no parameter 'kk'"):
        complement.diagnose(ws, "metrics", kk=3)
    with pytest.raises(ComplementError, match="parameter k expects INTEGER"):
        complement.diagnose(ws, "metrics", k="many")
    with pytest.raises(WorkspaceError, match="no 'neighbors' table"):
        complement.diagnose(ws, "item_agreement", view_a="a", view_b="b")


def test_a_table_marked_optional_is_read_empty_when_the_workspace_lacks_it(ws, tmp_path):
    from complement.diagnostics import find

    assert not ws.has_table("neighbors")
    path = tmp_path / "lists_and_neighbors.sql"
    path.write_text(
        "-- name: lists_and_neighbors\n-- requires: topk, neighbors?\n"
        "SELECT (SELECT count(*) FROM topk) AS n_topk, (SELECT count(*) FROM neighbors) AS n_neighbors;\n"
    )
    diagnostic = find(str(path))
    assert (diagnostic.requires, diagnostic.optional) == (("topk",), ("neighbors",))
    assert complement.diagnose(ws, str(path)).to_pylist() == [{"n_topk": 15, "n_neighbors": 0}]
    # a table read but not declared optional stays absent: an error, not an empty answer
    path.write_text("-- name: lists_and_neighbors\n-- requires: topk\nSELECT count(*) AS n FROM neighbors;\n")
    with pytest.raises(ComplementError, match="neighbors"):
        complement.diagnose(ws, str(path))
    path.write_text("-- name: lists_and_neighbors\n-- requires: topk, nope?\nSELECT 1;\n")
    with pytest.raises(ComplementError, match="'-- requires: nope\\?' is not a workspace table"):
        find(str(path))


def test_user_sql_file_with_the_same_header_works(ws, tmp_path):
    path = tmp_path / "hits_per_view.sql"
    path.write_text(
        "-- name: hits_per_view\n-- description: rows at rank <= $k\n-- param: k INTEGER = 2\n"
        "-- requires: topk\n-- returns: one row per view\n"
        "SELECT view, count(*) AS n FROM topk WHERE rank <= $k GROUP BY view ORDER BY view;\n"
    )
    assert complement.diagnose(ws, str(path)).to_pylist() == [{"view": "a", "n": 6}, {"view": "b", "n": 4}]
    bad = tmp_path / "bad.sql"
    bad.write_text("-- name: bad\n-- requires: topk\nSELECT * FROM topk WHERE rank <= $k;\n")
    with pytest.raises(ComplementError, match=r"\$k is used but not declared"):
        complement.diagnose(ws, str(bad))
    writer = tmp_path / "writer.sql"
    writer.write_text("-- name: writer\nCOPY (SELECT 1) TO 'x.csv';\n")
    with pytest.raises(ComplementError, match="read-only"):
        complement.diagnose(ws, str(writer))


# ---- audits -----------------------------------------------------------------------------------
def test_audits_find_offending_rows(tmp_path):
    case = hand_case()
    case["interactions"] = case["interactions"] + [("u1", "i4", "train"), ("u2", "i3", "train"), ("u2", "i2", "bogus")]
    ws = ref.write_case(tmp_path, case)
    ws.write_table(
        "topk",
        pa.table(
            {
                "view": ["c"] * 5,
                "user_id": ["u1", "u1", "u2", "u2", "u3"],
                "rank": [1, 1, 1, 3, 2],
                "item_id": ["i5", "i6", "i5", "i5", "i1"],
                "score": [1.0] * 5,
            }
        ),
        part="c",
    )
    ranks = by(complement.diagnose(ws, "check_topk_ranks"), "user_id")
    assert set(ranks) == {"u1", "u2", "u3"}
    assert ranks["u1"]["problem"] == "repeated rank"
    assert ranks["u2"]["problem"] == "gap in ranks; repeated item"
    assert ranks["u3"]["problem"] == "ranks do not start at 1; gap in ranks"
    seen = complement.diagnose(ws, "check_no_seen_items").to_pylist()
    assert [(r["view"], r["user_id"], r["item_id"]) for r in seen] == [
        ("a", "u1", "i4"),
        ("b", "u1", "i4"),
        ("b", "u2", "i3"),
    ]
    splits = complement.diagnose(ws, "check_split_disjoint").to_pylist()
    assert [(r["user_id"], r["item_id"], r["problem"]) for r in splits] == [
        ("u2", "i2", "unknown split"),
        ("u2", "i3", "pair in several splits"),
    ]
    ws.write_vectors("a", "item", ["i1", "i2", "i3"], np.array([[0, 1], [np.nan, 1], [np.inf, 0]]))
    finite = complement.diagnose(ws, "check_embeddings_finite").to_pylist()
    assert [(r["id"], r["problem"]) for r in finite] == [("i2", "non-finite value"), ("i3", "non-finite value")]


def _record_lists(ws, view: str, exclude: str, when: dt.datetime) -> None:
    """A runs row as a step that wrote ``view``'s lists masking ``exclude`` records it."""
    append_run(ws, RunRecord(step="topk", view=view, params={"k": 3, "exclude": exclude}), when, 0.0)


def _seen_rows(ws, **params) -> list[tuple]:
    rows = complement.diagnose(ws, "check_no_seen_items", **params).to_pylist()
    return [(r["view"], r["user_id"], r["rank"], r["item_id"], r["split"]) for r in rows]


def test_no_seen_items_audits_each_view_against_the_exclusion_it_recorded(tmp_path):
    case = hand_case()
    # u2 has i5 in valid; it is listed at rank 1 by view a, at rank 2 by view b
    case["interactions"] = case["interactions"] + [("u2", "i5", "valid")]
    case["exclude"] = {"a": "train+valid", "b": "train"}
    ws = ref.write_case(tmp_path, case)
    assert _seen_rows(ws) == [("a", "u2", 1, "i5", "valid")]  # b claims train only: its valid item is allowed
    # an explicit exclude audits every view against it, whatever they recorded
    assert _seen_rows(ws, exclude="train") == []
    assert _seen_rows(ws, exclude="train+valid") == [("a", "u2", 1, "i5", "valid"), ("b", "u2", 2, "i5", "valid")]
    # the latest run that wrote a view is the one that counts
    _record_lists(ws, "a", "train", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert _seen_rows(ws) == []
    with pytest.raises(ComplementError, match="exclude must be 'recorded', 'train' or 'train\\+valid'"):
        complement.diagnose(ws, "check_no_seen_items", exclude="all")


def copy_without_runs(ws, path):
    """``ws``'s tables but ``runs``, written through the workspace layer: a workspace built by hand."""
    bare = complement.Workspace(path)
    for name in ("items", "users", "interactions"):
        bare.write_table(name, ws.read_table(name))
    for view in ws.parts("topk"):
        bare.write_table("topk", ws.read_table("topk", part=view), part=view)
    assert not bare.has_table("runs")
    return bare


def seen_valid_case_without_runs(tmp_path):
    """hand_case with u2's i5 in valid (view a lists it at rank 1, view b at rank 2), a recorded as
    masking train+valid and b as train only, copied without ``runs``."""
    case = hand_case()
    case["interactions"] = case["interactions"] + [("u2", "i5", "valid")]
    case["exclude"] = {"a": "train+valid", "b": "train"}
    recorded = ref.write_case(tmp_path / "recorded", case)
    return recorded, copy_without_runs(recorded, tmp_path / "bare")


def test_no_seen_items_without_a_runs_table_audits_every_view_against_train_and_valid(tmp_path):
    recorded, bare = seen_valid_case_without_runs(tmp_path)
    assert _seen_rows(recorded) == [("a", "u2", 1, "i5", "valid")]  # b's record allows its valid item
    assert _seen_rows(bare) == [("a", "u2", 1, "i5", "valid"), ("b", "u2", 2, "i5", "valid")]
    assert _seen_rows(bare, exclude="train") == []
    assert _seen_rows(bare, views=["b"]) == [("b", "u2", 2, "i5", "valid")]
    with pytest.raises(ComplementError, match="exclude must be"):
        complement.diagnose(bare, "check_no_seen_items", exclude="all")


def test_no_seen_items_standalone_sql_runs_without_a_runs_table(tmp_path):
    import duckdb

    from complement.diagnostics.standalone import standalone_sql

    _, bare = seen_valid_case_without_runs(tmp_path)
    rows = duckdb.sql(standalone_sql(bare, "check_no_seen_items")).fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        ("a", "u2", 1, "i5", "valid"),
        ("b", "u2", 2, "i5", "valid"),
    ]


def test_no_seen_items_audits_an_unrecorded_view_against_train_and_valid(tmp_path):
    case = hand_case()
    case["interactions"] = case["interactions"] + [("u2", "i5", "valid"), ("u1", "i6", "train")]
    ws = ref.write_case(tmp_path, case)
    lists = {"u1": ["i6", "i3"], "u2": ["i4", "i5"]}  # a train item of u1 at rank 1, a valid one of u2 at rank 2
    flat = [(u, r, i) for u, items in lists.items() for r, i in enumerate(items, start=1)]
    topk = {
        "view": ["c"] * len(flat),
        "user_id": [u for u, _, _ in flat],
        "rank": [r for _, r, _ in flat],
        "item_id": [i for _, _, i in flat],
        "score": [1.0] * len(flat),
    }
    ws.write_table("topk", pa.table(topk), part="c")  # no runs row: the default masking is assumed
    assert _seen_rows(ws, views=["c"]) == [("c", "u1", 1, "i6", "train"), ("c", "u2", 2, "i5", "valid")]
    # the shards of a sharded view record for the view
    _record_lists(ws, "c@1of2", "train", dt.datetime.now(dt.UTC))
    _record_lists(ws, "c@2of2", "train", dt.datetime.now(dt.UTC))
    assert _seen_rows(ws, views=["c"]) == [("c", "u1", 1, "i6", "train")]
