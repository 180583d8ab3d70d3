"""The list-comparison diagnostics (rbo, rank_correlation, popularity_bias, multi_view) agree with
the plain-Python references of tests/reference_lists.py, and with answers worked out by hand."""

from __future__ import annotations

import pytest
import reference_lists as rl
import reference_metrics as ref

import complement

VIEWS = ("a", "b", "c")


@pytest.fixture(scope="module")
def case_ws(tmp_path_factory):
    case = ref.random_case(seed=11, n_users=40, n_items=30, k=10, views=VIEWS)
    return case, ref.write_case(tmp_path_factory.mktemp("lists"), case)


def evaluated_with_both(case, a, b):
    return [u for u in sorted(case["truth"]) if u in case["lists"][a] and u in case["lists"][b]]


def assert_summary(row, values):
    want = rl.summary(values)
    assert row["n_users"] == want["n_users"]
    for key in ("mean", "q25", "median", "q75"):
        assert row[key] == pytest.approx(want[key], abs=1e-9), key


@pytest.mark.parametrize("k,p", [(10, 0.9), (5, 0.5), (3, 0.98)])
def test_rbo_matches_the_reference_on_random_uneven_lists(case_ws, k, p):
    case, ws = case_ws
    got = {r["statistic"]: r for r in complement.diagnose(ws, "rbo", view_a="a", view_b="b", k=k, p=p).to_pylist()}
    users = evaluated_with_both(case, "a", "b")
    values = [rl.rbo_ext(case["lists"]["a"][u][:k], case["lists"]["b"][u][:k], p) for u in users]
    assert_summary(got["rbo_ext"], [v[0] for v in values])
    assert_summary(got["rbo_prefix"], [v[1] for v in values])


def hand_ws(tmp_path, lists_by_view, truth, n_train=None):
    items = sorted(
        {i for lists in lists_by_view.values() for ranked in lists.values() for i in ranked}
        | {i for t in truth.values() for i in t}
    )
    users = sorted(truth)
    n_train = n_train or {i: 0 for i in items}
    interactions = [(u, i, "test") for u in users for i in sorted(truth[u])]
    case = {
        "items": items,
        "users": users,
        "interactions": interactions,
        "lists": lists_by_view,
        "neighbors": {},
        "item_n_train": n_train,
        "user_n_train": {u: 0 for u in users},
        "group_of": {i: "mid" for i in items},
    }
    return ref.write_case(tmp_path, case)


def test_rbo_by_hand_swapped_top_two_is_point_nine_and_identical_lists_are_one(tmp_path):
    # X_1 = 0, X_2 = 2, X_3 = 3: (0.1/0.9)(0.81 + 0.729) + 0.729 = 0.9 exactly
    ws = hand_ws(
        tmp_path,
        {"a": {"u1": ["x", "y", "z"], "u2": ["x", "y"]}, "b": {"u1": ["y", "x", "z"], "u2": ["x", "y"]}},
        {"u1": {"x"}, "u2": {"x"}},
    )
    rows = {r["statistic"]: r for r in complement.diagnose(ws, "rbo", view_a="a", view_b="b", k=3).to_pylist()}
    assert rows["rbo_ext"]["mean"] == pytest.approx((0.9 + 1.0) / 2, abs=1e-12)
    assert rows["rbo_ext"]["q25"] == pytest.approx(0.925, abs=1e-12)


def test_rank_correlation_matches_the_reference_and_a_reversed_list_is_minus_one(case_ws, tmp_path):
    case, ws = case_ws
    got = {
        r["statistic"]: r for r in complement.diagnose(ws, "rank_correlation", view_a="b", view_b="c", k=10).to_pylist()
    }
    users = evaluated_with_both(case, "b", "c")
    taus = [rl.kendall_tau(case["lists"]["b"][u][:10], case["lists"]["c"][u][:10]) for u in users]
    assert_summary(got["kendall_tau"], [t for t in taus if t is not None])
    commons = [len(set(case["lists"]["b"][u][:10]) & set(case["lists"]["c"][u][:10])) for u in users]
    assert_summary(got["n_common"], commons)
    hand = hand_ws(
        tmp_path, {"a": {"u1": ["p", "q", "r", "s", "x"]}, "b": {"u1": ["s", "r", "t", "q", "p"]}}, {"u1": {"p"}}
    )
    rows = {
        r["statistic"]: r
        for r in complement.diagnose(hand, "rank_correlation", view_a="a", view_b="b", k=5).to_pylist()
    }
    assert rows["kendall_tau"]["mean"] == -1.0
    assert rows["n_common"]["mean"] == 4


@pytest.mark.parametrize("share", [0.2, 0.5])
def test_popularity_bias_matches_the_reference(case_ws, share):
    case, ws = case_ws
    head = rl.short_head(case["item_n_train"], share)
    got = {r["view"]: r for r in complement.diagnose(ws, "popularity_bias", k=7, head_share=share).to_pylist()}
    for view in VIEWS:
        users = [u for u in sorted(case["truth"]) if u in case["lists"][view]]
        tails = [sum(1 for i in case["lists"][view][u][:7] if i not in head) for u in users]
        sizes = [len(case["lists"][view][u][:7]) for u in users]
        assert got[view]["n_users"] == len(users)
        assert got[view]["aplt"] == pytest.approx(
            sum(t / n for t, n in zip(tails, sizes, strict=True)) / len(users), abs=1e-12
        )
        assert got[view]["aclt"] == pytest.approx(sum(tails) / len(users), abs=1e-12)
        assert got[view]["n_tail_items"] == len(case["items"]) - len(head)


def test_popularity_bias_by_hand(tmp_path):
    # n_train: h1 6, h2 2, t1 1, t2 1 (total 10); share 0.5: h1 (0 before) is head, h2 (6 before) is not
    ws = hand_ws(
        tmp_path,
        {"a": {"u1": ["h1", "t1", "h2"], "u2": ["t2"]}},
        {"u1": {"t1"}, "u2": {"t2"}},
        n_train={"h1": 6, "h2": 2, "t1": 1, "t2": 1},
    )
    row = complement.diagnose(ws, "popularity_bias", k=3, head_share=0.5).to_pylist()[0]
    assert row["aplt"] == pytest.approx((2 / 3 + 1) / 2, abs=1e-12)
    assert row["aclt"] == pytest.approx((2 + 1) / 2, abs=1e-12)
    assert row["n_tail_items"] == 3


def test_multi_view_matches_the_reference_jaccard_and_greedy_gains(case_ws):
    case, ws = case_ws
    k = 6
    rows = complement.diagnose(ws, "multi_view", views=list(VIEWS), k=k).to_pylist()
    jaccard = {(r["view_a"], r["view_b"]): r["value"] for r in rows if r["statistic"] == "jaccard"}
    assert len(jaccard) == 6
    for (a, b), value in jaccard.items():
        per_user = []
        for u in sorted(case["truth"]):
            la, lb = set(case["lists"][a].get(u, [])[:k]), set(case["lists"][b].get(u, [])[:k])
            if la | lb:
                per_user.append(len(la & lb) / len(la | lb))
        assert value == pytest.approx(sum(per_user) / len(per_user), abs=1e-12)
    greedy = [(r["view_a"], r["value"]) for r in rows if r["statistic"] == "marginal_gain"]
    union = [r["value"] for r in rows if r["statistic"] == "union_recall"]
    want = rl.greedy_gains(case["lists"], case["truth"], k)
    assert [g[0] for g in greedy] == [w[0] for w in want]
    assert [g[1] for g in greedy] == pytest.approx([w[2] for w in want], abs=1e-12)
    assert union == pytest.approx([w[1] for w in want], abs=1e-12)
    recall = {r["view_a"]: r["value"] for r in rows if r["statistic"] == "recall"}
    for view in VIEWS:
        assert recall[view] == pytest.approx(rl.union_recall(case["lists"], [view], case["truth"], k), abs=1e-12)


# Four views whose greedy order is decided by name at two steps (k = 2; "x" is never relevant):
# alone each finds 1/3 (a: half of u1 and of u2, b: u3, c: the other halves, d: u1), so a leads;
# a+b and a+c both reach 2/3 and b is taken; then c completes the union (1) and d adds nothing.
TIED_LISTS = {
    "a": {"u1": ["i1", "x"], "u2": ["i3", "x"]},
    "b": {"u3": ["i5", "x"]},
    "c": {"u1": ["i2", "x"], "u2": ["i4", "x"]},
    "d": {"u1": ["i1", "i2"]},
}
TIED_TRUTH = {"u1": {"i1", "i2"}, "u2": {"i3", "i4"}, "u3": {"i5"}}


def tied_views_ws(tmp_path):
    return hand_ws(tmp_path, TIED_LISTS, TIED_TRUTH)


def test_multi_view_breaks_ties_by_name_over_four_views(tmp_path):
    rows = complement.diagnose(tied_views_ws(tmp_path), "multi_view", k=2).to_pylist()
    union = [(r["step"], r["view_a"], r["value"]) for r in rows if r["statistic"] == "union_recall"]
    gains = [(r["step"], r["view_a"], r["value"]) for r in rows if r["statistic"] == "marginal_gain"]
    assert union == [(1, "a", pytest.approx(1 / 3)), (2, "b", pytest.approx(2 / 3)), (3, "c", 1.0), (4, "d", 1.0)]
    assert gains == [
        (1, "a", pytest.approx(1 / 3)),
        (2, "b", pytest.approx(1 / 3)),
        (3, "c", pytest.approx(1 / 3)),
        (4, "d", 0.0),
    ]
    want = rl.greedy_gains(TIED_LISTS, TIED_TRUTH, 2)
    assert [(v, pytest.approx(r, abs=1e-12)) for v, r, _ in want] == [(v, r) for _, v, r in union]
    recall = {r["view_a"]: r["value"] for r in rows if r["statistic"] == "recall"}
    assert recall == {v: pytest.approx(1 / 3, abs=1e-12) for v in "abcd"}


def test_multi_view_needs_three_distinct_views(case_ws):
    _, ws = case_ws
    with pytest.raises(complement.errors.ComplementError, match="at least 3 views"):
        complement.diagnose(ws, "multi_view", views=["a", "b"])
    with pytest.raises(complement.errors.ComplementError, match="named twice"):
        complement.diagnose(ws, "multi_view", views=["a", "b", "a"])
