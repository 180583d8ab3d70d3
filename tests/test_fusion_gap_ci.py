"""fusion_gap_ci: each fused view's share of the oracle union_at_k gain against a reference view, with
paired bootstrap CIs, checked against a plain-Python bootstrap that makes the same hash-based draws."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import reference_metrics as ref

import complement
from complement.errors import ComplementError

K = 10
VIEWS = ("a", "b", "f", "g")


def hash60(text: str) -> int:
    """_macros.sql's hash60: the first 15 hex digits of the MD5 digest."""
    return int(hashlib.md5(text.encode()).hexdigest()[:15], 16)


@pytest.fixture(scope="module")
def case():
    return ref.random_case(seed=5, n_users=50, n_items=30, k=K, views=VIEWS)


@pytest.fixture(scope="module")
def ws(tmp_path_factory, case):
    return ref.write_case(tmp_path_factory.mktemp("gap_ci"), case)


def per_user(case, k=K):
    """{user: (recall of each view, union_at_k)} over the evaluated users, in user_id order."""
    out = {}
    for user, truth in sorted(case["truth"].items()):
        if not truth:
            continue
        lists = {v: case["lists"][v].get(user, []) for v in VIEWS}
        recall = {v: ref.user_metrics(lists[v], truth, k)["recall"] for v in VIEWS}
        union = (set(lists["a"][:k]) | set(lists["b"][:k])) & truth
        out[user] = (recall, min(len(union), k) / len(truth))
    return out


def python_bootstrap(case, view, reference, n_boot, seed, alpha=0.05):
    """Observed share, share difference and recall difference, and their percentile CIs."""
    users = per_user(case)
    names = sorted(users)  # unit order: user_id (one user per unit)
    m = len(names)
    recall = {v: np.array([users[u][0][v] for u in names]) for v in VIEWS}
    union = np.array([users[u][1] for u in names])

    def stats(weights):
        n = weights.sum()
        mean = {v: (weights * recall[v]).sum() / n for v in VIEWS}
        best = max(mean["a"], mean["b"])
        bound = (weights * union).sum() / n
        ref_recall = best if reference == "" else mean[reference]
        share = (mean[view] - best) / (bound - best) if bound != best else None
        ref_share = (ref_recall - best) / (bound - best) if bound != best else None
        diff = None if share is None else share - ref_share
        return share, diff, mean[view] - ref_recall

    observed = stats(np.ones(m))
    replicates = []
    for b in range(1, n_boot + 1):
        weights = np.zeros(m)
        for j in range(m):
            weights[hash60(f"bootstrap|{seed}|{b}|{j}") % m] += 1
        replicates.append(stats(weights))

    def ci(column):
        values = np.array([r[column] for r in replicates if r[column] is not None])
        return np.quantile(values, alpha / 2), np.quantile(values, 1 - alpha / 2)

    return observed, ci(0), ci(1), ci(2)


@pytest.mark.parametrize("reference", ["g", ""])
def test_cis_equal_a_plain_python_bootstrap_with_the_same_draws(ws, case, reference):
    rows = {
        r["view"]: r
        for r in complement.diagnose(
            ws, "fusion_gap_ci", view_a="a", view_b="b", reference=reference, k=K, n_boot=120, seed=4
        ).to_pylist()
    }
    assert sorted(rows) == (["f"] if reference == "g" else ["f", "g"])
    (share, share_diff, recall_diff), share_ci, diff_ci, recall_ci = python_bootstrap(case, "f", reference, 120, 4)
    row = rows["f"]
    assert row["reference"] == (reference or "best_single")
    assert row["share"] == pytest.approx(share, abs=1e-12)
    assert row["share_diff"] == pytest.approx(share_diff, abs=1e-12)
    assert row["recall_diff"] == pytest.approx(recall_diff, abs=1e-12)
    assert (row["share_low"], row["share_high"]) == pytest.approx(share_ci, abs=1e-9)
    assert (row["share_diff_low"], row["share_diff_high"]) == pytest.approx(diff_ci, abs=1e-9)
    assert (row["recall_diff_low"], row["recall_diff_high"]) == pytest.approx(recall_ci, abs=1e-9)


def test_shares_equal_fusion_gap_and_the_recall_ci_equals_compare(ws):
    rows = {
        r["view"]: r
        for r in complement.diagnose(
            ws, "fusion_gap_ci", view_a="a", view_b="b", reference="g", k=K, n_boot=80, seed=2
        ).to_pylist()
    }
    gap = {
        r["view"]: r
        for r in complement.diagnose(ws, "fusion_gap", view_a="a", view_b="b", k=K).to_pylist()
        if r["pop_group"] == "all"
    }
    assert rows["f"]["share"] == pytest.approx(gap["f"]["share_of_union_at_k_gain"], abs=1e-12)
    assert rows["f"]["reference_share"] == pytest.approx(gap["g"]["share_of_union_at_k_gain"], abs=1e-12)
    assert rows["f"]["union_at_k"] == pytest.approx(gap["f"]["union_at_k"], abs=1e-12)
    compared = next(
        r
        for r in complement.diagnose(ws, "compare", view_a="f", view_b="g", k=K, n_boot=80, seed=2).to_pylist()
        if r["metric"] == "recall"
    )
    assert rows["f"]["recall_diff_low"] == pytest.approx(compared["ci_low"], abs=1e-12)
    assert rows["f"]["recall_diff_high"] == pytest.approx(compared["ci_high"], abs=1e-12)


def test_views_parameter_selects_the_fused_views_and_each_ci_holds_its_estimate(ws):
    rows = complement.diagnose(
        ws, "fusion_gap_ci", view_a="a", view_b="b", views=["g"], k=K, n_boot=200, seed=1
    ).to_pylist()
    assert [r["view"] for r in rows] == ["g"]
    row = rows[0]
    assert row["reference_share"] == 0 and row["reference_recall"] == row["best_single"]
    assert row["share_low"] <= row["share"] <= row["share_high"]
    assert row["recall_diff_low"] <= row["recall_diff"] <= row["recall_diff_high"]


def test_bad_bootstrap_settings_get_one_clear_error(ws):
    with pytest.raises(ComplementError, match="n_boot must be at least 1"):
        complement.diagnose(ws, "fusion_gap_ci", view_a="a", view_b="b", n_boot=0)


def test_a_view_equal_to_the_best_single_view_or_the_reference_has_differences_exactly_zero(tmp_path):
    from test_fusion_gap import _many_users

    ws = _many_users(tmp_path)
    for reference, expected in (("", 0.0), ("a", 0.0)):
        rows = {
            r["view"]: r
            for r in complement.diagnose(
                ws, "fusion_gap_ci", view_a="a", view_b="b", k=20, n_boot=20, reference=reference
            ).to_pylist()
        }
        c = rows["c"]  # c's lists are a's, the better single view
        assert c["recall"] == c["best_single"] == c["reference_recall"]
        assert (c["share"], c["share_diff"], c["recall_diff"]) == (expected, 0.0, 0.0)
        if reference:  # a replicate's better single view may be b; the reference a is c in every replicate
            assert (c["recall_diff_low"], c["recall_diff_high"], c["share_diff_low"], c["share_diff_high"]) == (0,) * 4
