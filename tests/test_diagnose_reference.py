"""Every diagnostic against the plain-Python reference (tests/reference_metrics.py) on random
workspaces, plus the invariants docs/design.md promises."""

from __future__ import annotations

import hashlib

import pytest
import reference_metrics as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import complement

TOL = 1e-9


def close(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return abs(x - y) <= TOL * max(1.0, abs(x), abs(y))


def rows_by(table, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Random workspaces built once; hypothesis picks among them (workspaces are slow to write)."""
    out = []
    for seed in range(6):
        case = ref.random_case(seed, n_users=25 + 5 * seed, n_items=30 + 4 * seed, k=8)
        out.append((case, ref.write_case(tmp_path_factory.mktemp(f"case{seed}"), case)))
    return out


SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(index=st.integers(0, 5), k=st.sampled_from([1, 3, 5, 8]))
def test_metrics_and_per_user_metrics_match_reference(cases, index, k):
    case, ws = cases[index]
    got = rows_by(complement.diagnose(ws, "metrics", k=k), "view")
    per_user = rows_by(complement.diagnose(ws, "per_user_metrics", k=k), "view", "user_id")
    for view, lists in case["lists"].items():
        want = ref.metrics(lists, case["truth"], k)
        row = got[view]
        assert row["n_users"] == want["n_users"]
        for ours, theirs in (
            ("recall", "recall"),
            ("precision", "precision"),
            ("hit_rate", "hit"),
            ("ndcg", "ndcg"),
            ("mrr", "rr"),
        ):
            assert close(row[ours], want[theirs]), (view, ours, row[ours], want[theirs])
        for user, truth in case["truth"].items():
            expected = ref.user_metrics(lists.get(user, []), truth, k)
            mine = per_user[(view, user)]
            for name in ("hits", "recall", "precision", "hit", "ndcg", "rr"):
                assert close(mine[name], expected[name]), (view, user, name)


@SETTINGS
@given(index=st.integers(0, 5), k=st.sampled_from([2, 5, 8]))
def test_by_popularity_matches_reference(cases, index, k):
    case, ws = cases[index]
    got = rows_by(complement.diagnose(ws, "by_popularity", k=k), "view", "pop_group")
    for view, lists in case["lists"].items():
        want = ref.by_popularity(lists, case["truth"], case["group_of"], k)
        assert {g for (v, g) in got if v == view} == set(want)
        for group, expected in want.items():
            row = got[(view, group)]
            assert row["n_users"] == expected["n_users"]
            assert close(row["recall"], expected["recall"]) and close(row["ndcg"], expected["ndcg"])
            assert close(row["hit_rate"], expected["hit"]) and close(row["mrr"], expected["rr"])


@SETTINGS
@given(index=st.integers(0, 5), k=st.sampled_from([1, 4, 8]))
def test_two_view_diagnostics_match_reference(cases, index, k):
    case, ws = cases[index]
    a, b, truth = case["lists"]["a"], case["lists"]["b"], case["truth"]
    views = {"view_a": "a", "view_b": "b", "k": k}

    overlap = rows_by(complement.diagnose(ws, "overlap", **views), "statistic")
    for statistic, want in ref.overlap(a, b, truth, k).items():
        for name in ("n_users", "mean", "q25", "median", "q75"):
            assert close(overlap[statistic][name], want[name]), (statistic, name)

    users = rows_by(complement.diagnose(ws, "user_complementarity", **views), "user_group")
    for group, want in ref.user_complementarity(a, b, truth, case["user_n_train"], k).items():
        for name in ("n_users", "share", "mean_log_train"):
            assert close(users[group][name], want[name]), (group, name)

    (hits,) = complement.diagnose(ws, "unique_hits", **views).to_pylist()
    for name, value in ref.unique_hits(a, b, truth, case["item_n_train"], k).items():
        assert close(hits[name], value), name

    oracle = rows_by(complement.diagnose(ws, "oracle", **views), "pop_group")
    want = ref.oracle(a, b, truth, case["group_of"], k)
    assert set(oracle) == set(want)
    for group, expected in want.items():
        for name, value in expected.items():
            assert close(oracle[group][name], value), (group, name)


@pytest.mark.parametrize("k", [1, 5, 8])
def test_coverage_matches_reference(cases, k):
    for case, ws in cases[:3]:
        got = rows_by(complement.diagnose(ws, "coverage", k=k), "view")
        for view, lists in case["lists"].items():
            for name, value in ref.coverage(lists, case["item_n_train"], k).items():
                assert close(got[view][name], value), (view, name)


def hash60(text: str) -> int:
    """The diagnostics' shared hash (``_macros.sql``): the first 15 hex digits of the MD5 digest."""
    return int(hashlib.md5(text.encode()).hexdigest()[:15], 16)


def sql_permutations(case, view, k, n_perm, seed):
    """The permutations item_agreement uses, re-derived in Python from its documented rule: the ids
    view B mentions, sorted by id, take the ids ordered by hash60('permutation|seed|p|id'), id."""
    ids = sorted({i for i, ranked in case["neighbors"][view].items() for i in [i, *ranked[:k]]})
    perms = []
    for perm in range(1, n_perm + 1):
        shuffled = sorted(ids, key=lambda i: (hash60(f"permutation|{seed}|{perm}|{i}"), i))
        perms.append(dict(zip(ids, shuffled, strict=True)))
    return perms


@pytest.mark.parametrize("k,seed", [(3, 0), (8, 5)])
def test_item_agreement_matches_reference_including_the_null(cases, k, seed):
    for case, ws in cases[:2]:
        got = rows_by(
            complement.diagnose(ws, "item_agreement", view_a="a", view_b="b", k=k, n_perm=6, seed=seed), "pop_group"
        )
        perms = sql_permutations(case, "b", k, 6, seed)
        want = ref.item_agreement(case["neighbors"]["a"], case["neighbors"]["b"], case["group_of"], k, perms)
        assert set(got) == set(want)
        for group, expected in want.items():
            for name, value in expected.items():
                assert close(got[group][name], value), (group, name)


def test_item_agreement_null_is_deterministic_per_seed(cases):
    _, ws = cases[0]

    def run(seed):
        return complement.diagnose(ws, "item_agreement", view_a="a", view_b="b", seed=seed, n_perm=5)

    first, again = run(1).to_pylist(), run(1).to_pylist()  # equal up to parallel summation order
    assert all(
        close(x[c], y[c]) for x, y in zip(first, again, strict=True) for c in ("observed", "null_mean", "null_std", "z")
    )
    assert run(1).column("null_mean").to_pylist() != run(2).column("null_mean").to_pylist()


def test_item_agreement_permutations_are_independent(tmp_path):
    """The null's permutations must be independent draws: with 3,000 ids, the shuffled order of any two
    permutations is uncorrelated (ordering by DuckDB's hash(id, seed, p) gave rank correlations of
    0.52-0.998 between permutations). The permutations are the documented rule's, which the SQL is
    held to by test_item_agreement_matches_reference_including_the_null."""
    import numpy as np

    ids = [f"i{n:05d}" for n in range(3000)]
    case = {"neighbors": {"v": {i: [j] for i, j in zip(ids, ids[1:] + ids[:1], strict=True)}}}
    position = {original: n for n, original in enumerate(sorted(ids))}
    orders = []  # each permutation's shuffled position of every id
    for seed in (0, 1):
        for perm in sql_permutations(case, "v", 1, 4, seed=seed):
            source_of = {permuted: original for original, permuted in perm.items()}
            orders.append(np.array([position[source_of[i]] for i in ids], dtype=float))
    for a in range(len(orders)):
        for b in range(a + 1, len(orders)):
            assert abs(np.corrcoef(orders[a], orders[b])[0, 1]) < 0.1, (a, b)


# ---- invariants -------------------------------------------------------------------------------
@SETTINGS
@given(index=st.integers(0, 5), k=st.sampled_from([1, 3, 8]))
def test_oracle_bounds_are_ordered(cases, index, k):
    _, ws = cases[index]
    for row in complement.diagnose(ws, "oracle", view_a="a", view_b="b", k=k).to_pylist():
        assert row["union"] >= row["union_at_k"] - TOL
        assert row["union_at_k"] >= row["best_view"] - TOL
        assert row["best_view"] >= max(row["recall_a"], row["recall_b"]) - TOL


def test_oracle_union_at_k_never_exceeds_k_slots(cases):
    for k in (1, 2):
        for case, ws in cases[:3]:
            (row, *_) = complement.diagnose(ws, "oracle", view_a="a", view_b="b", k=k).to_pylist()
            slots_bound = sum(min(k, len(t)) / len(t) for t in case["truth"].values()) / len(case["truth"])
            assert row["union_at_k"] <= slots_bound + TOL
            assert row["union_at_k"] <= row["union"] + TOL


def test_hit_shares_sum_to_one(cases):
    for _, ws in cases:
        (row,) = complement.diagnose(ws, "unique_hits", view_a="a", view_b="b", k=5).to_pylist()
        assert close(row["share_common"] + row["share_a_only"] + row["share_b_only"], 1.0)
        shares = complement.diagnose(ws, "user_complementarity", view_a="a", view_b="b").column("share").to_pylist()
        assert close(sum(shares), 1.0)


def test_a_view_compared_with_itself(cases):
    _, ws = cases[2]
    overlap = rows_by(complement.diagnose(ws, "overlap", view_a="a", view_b="a", k=5), "statistic")
    assert overlap["jaccard"]["mean"] == 1.0 and overlap["jaccard"]["q25"] == 1.0
    (hits,) = complement.diagnose(ws, "unique_hits", view_a="a", view_b="a").to_pylist()
    assert hits["a_only"] == hits["b_only"] == 0 and hits["complementary_hit_ratio"] == 0.0
    agreement = rows_by(complement.diagnose(ws, "item_agreement", view_a="a", view_b="a"), "pop_group")
    assert agreement["all"]["observed"] == 1.0
    assert agreement["all"]["z"] > 10


def test_k_list_runs_once_per_k_with_a_k_column(cases):
    _, ws = cases[0]
    table = complement.diagnose(ws, "metrics", k=[2, 5])
    assert table.column_names[0] == "k"
    assert table.column("k").to_pylist() == [2, 2, 5, 5]
    single = complement.diagnose(ws, "metrics", k=5)
    # DuckDB's parallel sums may differ in the last bits between runs: compare to 1e-12
    for got, want in zip(table.slice(2).drop_columns(["k"]).to_pylist(), single.to_pylist(), strict=True):
        assert got["view"] == want["view"]
        assert {c: v for c, v in got.items() if c != "view"} == pytest.approx(
            {c: v for c, v in want.items() if c != "view"}, rel=1e-12
        )
