"""The `compare` diagnostic: paired bootstrap CI and sign-flip permutation p-value of the per-user
difference of two views' Recall@k / NDCG@k.

The SQL draws its resamples from hashes, so no plain implementation reproduces them exactly; the
tests check exact properties (identical views, a planted better view, means equal to `metrics`,
determinism) and compare the distributions with numpy's (bootstrap standard error, p-value)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import reference_metrics as ref

import complement
from complement.cli.app import main
from complement.errors import ComplementError

K = 10


def rows_by_metric(table):
    """{metric: row} of a result table (or of its rows as a list of dicts)."""
    rows = table if isinstance(table, list) else table.to_pylist()
    return {row["metric"]: row for row in rows}


def per_user_differences(case, view_a, view_b, metric, k=K):
    """d(u) = m_A(u) - m_B(u) over evaluated users, from the plain-Python reference metrics."""
    lists_a, lists_b = case["lists"][view_a], case["lists"][view_b]
    return np.array(
        [
            ref.user_metrics(lists_a.get(u, []), t, k)[metric] - ref.user_metrics(lists_b.get(u, []), t, k)[metric]
            for u, t in sorted(case["truth"].items())
            if t
        ]
    )


@pytest.fixture(scope="module")
def random_case():
    return ref.random_case(seed=7, n_users=120, n_items=40, k=K, views=("a", "b"))


@pytest.fixture(scope="module")
def random_ws(tmp_path_factory, random_case):
    return ref.write_case(tmp_path_factory.mktemp("compare_random"), random_case)


def planted_case(n_users=40):
    """View 'good' puts one of the user's two test items at rank 1 for every user; view 'bad'
    hits nobody but user 0 (at rank 5), so d(u) > 0 for every user but user 0 (d = 0 there)."""
    items = [f"i{j:02d}" for j in range(30)]
    users = [f"u{j:02d}" for j in range(n_users)]
    interactions, truth, good, bad = [], {}, {}, {}
    for n, u in enumerate(users):
        test = [items[n % 10], items[10 + n % 10]]
        interactions += [(u, test[0], "test"), (u, test[1], "test"), (u, items[20 + n % 10], "train")]
        truth[u] = set(test)
        fillers = [i for i in items[20:] if i != items[20 + n % 10]][:6]
        good[u] = [test[0], *fillers[:5]]
        bad[u] = [*fillers[:4], test[0]] if n == 0 else fillers
    return {
        "items": items,
        "users": users,
        "interactions": interactions,
        "lists": {"good": good, "bad": bad},
        "truth": truth,
        "item_n_train": {i: 1 for i in items},
        "user_n_train": {u: 1 for u in users},
        "group_of": {i: "mid" for i in items},
    }


# The planted lists hold 6 items; a k beyond the stored lists is refused.
PLANTED_K = 6


@pytest.fixture(scope="module")
def planted_ws(tmp_path_factory):
    return ref.write_case(tmp_path_factory.mktemp("compare_planted"), planted_case())


def test_a_view_compared_with_itself_has_zero_difference_zero_ci_and_p_one(random_ws):
    rows = rows_by_metric(complement.diagnose(random_ws, "compare", view_a="a", view_b="a", k=K, n_boot=200))
    assert set(rows) == {"recall", "ndcg"}
    for row in rows.values():
        assert row["mean_a"] == row["mean_b"]
        assert (row["mean_diff"], row["se_boot"], row["ci_low"], row["ci_high"]) == (0, 0, 0, 0)
        assert row["p_value"] == 1.0


def test_a_planted_better_view_has_a_ci_above_zero_and_a_small_p(planted_ws):
    rows = rows_by_metric(
        complement.diagnose(planted_ws, "compare", view_a="good", view_b="bad", k=PLANTED_K, n_boot=200)
    )
    # recall: good hits 1 of 2 test items for all 40 users, bad only user 0 -> mean_diff = 0.5 - 0.5/40
    assert rows["recall"]["mean_a"] == pytest.approx(0.5)
    assert rows["recall"]["mean_diff"] == pytest.approx(0.5 - 0.5 / 40)
    for row in rows.values():
        assert row["n_users"] == 40 and row["n_boot"] == 200
        assert 0 < row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
        assert row["p_value"] <= 0.01
        assert row["p_value"] == pytest.approx(1 / 201)  # no sign flip of 39 positive d(u) reaches the mean
    swapped = rows_by_metric(
        complement.diagnose(planted_ws, "compare", view_a="bad", view_b="good", k=PLANTED_K, n_boot=200)
    )
    assert swapped["ndcg"]["ci_high"] < 0
    assert swapped["ndcg"]["mean_diff"] == pytest.approx(-rows["ndcg"]["mean_diff"], abs=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_ci_is_ordered_and_contains_the_mean_difference(tmp_path, seed):
    ws = ref.write_case(tmp_path, ref.random_case(seed=seed, n_users=40, views=("a", "b")))
    for row in complement.diagnose(ws, "compare", view_a="a", view_b="b", k=K, n_boot=300, seed=seed).to_pylist():
        assert row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
        assert 0 <= row["p_value"] <= 1


def test_means_equal_the_metrics_diagnostic_and_the_reference(random_ws, random_case):
    compared = rows_by_metric(complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=10))
    metrics = {row["view"]: row for row in complement.diagnose(random_ws, "metrics", k=K).to_pylist()}
    for metric in ("recall", "ndcg"):
        row = compared[metric]
        assert row["n_users"] == metrics["a"]["n_users"]
        assert row["mean_a"] == pytest.approx(metrics["a"][metric], abs=1e-12)
        assert row["mean_b"] == pytest.approx(metrics["b"][metric], abs=1e-12)
        d = per_user_differences(random_case, "a", "b", metric)
        assert row["mean_diff"] == pytest.approx(d.mean(), abs=1e-12)


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_bounds(random_ws):
    def run(seed):
        table = complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=300, seed=seed)
        return rows_by_metric(table)

    first, again, other = run(0), run(0), run(1)
    for metric in ("recall", "ndcg"):
        for column in ("mean_diff", "se_boot", "ci_low", "ci_high", "p_value"):
            assert first[metric][column] == pytest.approx(again[metric][column], rel=1e-12, abs=1e-15)
        assert other[metric]["mean_diff"] == pytest.approx(first[metric]["mean_diff"], abs=1e-12)
        assert (other[metric]["ci_low"], other[metric]["ci_high"]) != (
            first[metric]["ci_low"],
            first[metric]["ci_high"],
        )


def test_bootstrap_and_permutation_agree_with_numpy_in_distribution(random_ws, random_case):
    """With 2000 replicates: se_boot ≈ the plug-in standard error sqrt(Σ(d - mean)² / n) / sqrt(n)
    (the exact SD of a multinomial-resample mean), the CI ≈ numpy's percentile bootstrap, and the
    p-value ≈ numpy's sign-flip test (20000 flips), within a few Monte Carlo standard errors."""
    rows = rows_by_metric(complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=2000, seed=3))
    rng = np.random.default_rng(0)
    for metric in ("recall", "ndcg"):
        d = per_user_differences(random_case, "a", "b", metric)
        n, row = len(d), rows[metric]
        se = d.std(ddof=0) / np.sqrt(n)
        assert row["se_boot"] == pytest.approx(se, rel=0.12)
        means = d[rng.integers(0, n, size=(20000, n))].mean(axis=1)
        low, high = np.quantile(means, [0.025, 0.975])
        assert row["ci_low"] == pytest.approx(low, abs=0.35 * se)
        assert row["ci_high"] == pytest.approx(high, abs=0.35 * se)
        flipped = (d * rng.choice([-1.0, 1.0], size=(20000, n))).mean(axis=1)
        p_numpy = (1 + np.sum(np.abs(flipped) >= abs(d.mean()) - 1e-12)) / 20001
        assert row["p_value"] == pytest.approx(p_numpy, abs=0.05)


def test_alpha_sets_the_ci_width(random_ws):
    wide = rows_by_metric(
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=500, alpha=0.01)
    )
    narrow = rows_by_metric(
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=500, alpha=0.5)
    )
    for metric in ("recall", "ndcg"):
        assert wide[metric]["ci_low"] < narrow[metric]["ci_low"] <= narrow[metric]["ci_high"] < wide[metric]["ci_high"]


def test_a_list_of_k_gives_two_rows_per_k(random_ws):
    table = complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=[5, 10], n_boot=50)
    assert [(r["k"], r["metric"]) for r in table.to_pylist()] == [
        (5, "ndcg"),
        (5, "recall"),
        (10, "ndcg"),
        (10, "recall"),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_boot": 0}, "n_boot must be at least 1, got 0"),
        ({"alpha": 1.0}, "alpha must be between 0 and 1"),
        ({"alpha": 0.0}, "alpha must be between 0 and 1"),
    ],
)
def test_bad_settings_are_one_line_errors(random_ws, params, message):
    with pytest.raises(ComplementError, match=message) as info:
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", **params)
    assert "\n" not in str(info.value)


def test_an_unknown_view_is_refused_by_name(random_ws):
    with pytest.raises(ComplementError, match="view 'c' is not in the 'topk' table"):
        complement.diagnose(random_ws, "compare", view_a="a", view_b="c")


def test_the_cli_runs_compare(planted_ws, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "diagnose",
                "-w",
                str(planted_ws.root),
                "--sql",
                "compare",
                "--views",
                "good,bad",
                "-p",
                "k",
                "5",
                "-p",
                "n_boot",
                "100",
                "--format",
                "json",
            ]
        )
        raise SystemExit(0)
    out, _ = capsys.readouterr()
    assert (exit_info.value.code or 0) == 0
    rows = rows_by_metric(json.loads(out))
    assert rows["recall"]["n_boot"] == 100 and rows["recall"]["ci_low"] > 0


def test_users_hashed_into_fewer_units_keep_the_means_and_estimate_the_same_error(random_ws, random_case):
    """Past max_units users the resampling unit is a hash bucket of users (a cluster bootstrap and
    bucket sign flips): the observed means are unchanged and se_boot still estimates the plug-in
    standard error of the mean (noisier: 30 buckets)."""
    per_user = rows_by_metric(
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=2000, seed=3)
    )
    bucketed = rows_by_metric(
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", k=K, n_boot=2000, seed=3, max_units=30)
    )
    for metric in ("recall", "ndcg"):
        d = per_user_differences(random_case, "a", "b", metric)
        assert len(d) > 30
        for column in ("n_users", "mean_a", "mean_b", "mean_diff"):
            assert bucketed[metric][column] == pytest.approx(per_user[metric][column], abs=1e-12)
        assert bucketed[metric]["se_boot"] != per_user[metric]["se_boot"]
        assert bucketed[metric]["se_boot"] == pytest.approx(d.std(ddof=0) / np.sqrt(len(d)), rel=0.35)


def test_bucketed_units_still_detect_a_planted_better_view(planted_ws):
    rows = rows_by_metric(
        complement.diagnose(planted_ws, "compare", view_a="good", view_b="bad", k=PLANTED_K, n_boot=200, max_units=12)
    )
    for row in rows.values():
        assert 0 < row["ci_low"] <= row["mean_diff"] <= row["ci_high"]
        assert row["p_value"] <= 0.05


def test_max_units_below_one_is_a_one_line_error(random_ws):
    with pytest.raises(ComplementError, match="max_units must be at least 1, got 0"):
        complement.diagnose(random_ws, "compare", view_a="a", view_b="b", max_units=0)
