"""Training-free fusion: score, rrf, concat (complement fuse)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_fusion_data import planted_workspace, recall_at, write_interactions

from complement import Workspace
from complement.errors import ComplementError
from complement.fusion import fuse, norm_concat_norm, rrf_scores, standardise
from complement.scoring import write_topk


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    ws = planted_workspace(tmp_path_factory.mktemp("planted"))
    for view in ("a", "b"):
        write_topk(ws, view, k=20, device="cpu")
    return ws


def _lists(ws: Workspace, view: str) -> dict[str, list[str]]:
    rows = ws.query("SELECT user_id, item_id FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}).to_pylist()
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["user_id"], []).append(r["item_id"])
    return out


@pytest.mark.parametrize("method", ["score", "concat", "rrf"])
def test_fusion_beats_both_single_views_on_planted_private_parts(planted, method):
    fuse(planted, "a,b", method, f"fused-{method}", k=20, device="cpu")
    fused, a, b = recall_at(planted, f"fused-{method}"), recall_at(planted, "a"), recall_at(planted, "b")
    assert fused > max(a, b) + 0.1


def test_score_fusion_with_weight_one_reproduces_view_a_ranking(planted):
    fuse(planted, ["a", "b"], "score", "w-one", weight=1.0, k=20, device="cpu")
    assert _lists(planted, "w-one") == _lists(planted, "a")


def test_score_fusion_with_weight_zero_and_minmax_reproduces_view_b_ranking(planted):
    fuse(planted, "a,b", "score", "w-zero", weight=0.0, norm="minmax", k=20, device="cpu")
    assert _lists(planted, "w-zero") == _lists(planted, "b")


def test_tuned_weight_and_validation_grid_are_recorded_in_runs(planted):
    result = fuse(planted, "a,b", "score", "tuned", k=20, device="cpu")
    assert result.weight in [round(0.1 * i, 1) for i in range(11)]
    assert result.validation_recall[result.weight] == max(result.validation_recall.values())
    row = planted.query("SELECT params, metrics, rows FROM runs WHERE step = 'fuse' AND view = 'tuned'").to_pylist()[-1]
    metrics, params = json.loads(row["metrics"]), json.loads(row["params"])
    assert metrics["weight"] == result.weight and metrics["tuned"] is True
    assert len(metrics["validation_recall@20"]) == 11
    assert params["views"] == ["a", "b"] and params["norm"] == "zscore"
    assert row["rows"] == 400 * 20


def test_fused_topk_masks_train_items_and_ranks_from_one(planted):
    fuse(planted, "a,b", "rrf", "rrf-check", k=20, device="cpu")
    leaked = (
        planted.query(
            """SELECT count(*) FROM topk t JOIN interactions x USING (user_id, item_id)
           WHERE t.view = 'rrf-check' AND x.split = 'train'"""
        )
        .column(0)[0]
        .as_py()
    )
    assert leaked == 0
    ranks = planted.query(
        "SELECT min(rank), max(rank), count(DISTINCT user_id) FROM topk WHERE view = 'rrf-check'"
    ).to_pylist()[0]
    assert list(ranks.values()) == [1, 20, 400]


def test_concat_writes_norm_concat_norm_embeddings(planted):
    fuse(planted, "a,b", "concat", "ncn", k=20, device="cpu")
    _, items = planted.read_vectors("ncn", "item")
    _, a_items = planted.read_vectors("a", "item")
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        items[:, : a_items.shape[1]] * np.sqrt(2), a_items / np.linalg.norm(a_items, axis=1, keepdims=True), atol=1e-5
    )


def test_norm_concat_norm_score_is_mean_of_cosines():
    rng = np.random.default_rng(0)
    ua, ia, ub, ib = rng.normal(size=(1, 3)), rng.normal(size=(1, 3)), rng.normal(size=(1, 5)), rng.normal(size=(1, 5))
    cos = lambda x, y: float((x @ y.T).item() / np.linalg.norm(x) / np.linalg.norm(y))  # noqa: E731
    fused = float((norm_concat_norm(ua, ub) @ norm_concat_norm(ia, ib).T).item())
    assert fused == pytest.approx((cos(ua, ia) + cos(ub, ib)) / 2, abs=1e-6)


def test_standardise_ignores_masked_items_in_its_statistics():
    scores = torch.tensor([[1.0, 2.0, 3.0, 100.0]], dtype=torch.float64)
    mask = torch.tensor([[False, False, False, True]])
    z = standardise(scores, mask, "zscore")[0].tolist()
    std = np.sqrt(2 / 3)  # population std of 1, 2, 3
    assert z == pytest.approx([-1 / std, 0.0, 1 / std, 0.0])
    assert standardise(scores, mask, "minmax")[0].tolist() == pytest.approx([0.0, 0.5, 1.0, 0.0])
    flat = standardise(torch.ones((1, 3), dtype=torch.float64), torch.zeros((1, 3), dtype=torch.bool), "zscore")
    assert flat.tolist() == [[0.0, 0.0, 0.0]]


def _brute_force_rrf(scores_a, scores_b, masked, rrf_k):
    """Plain Python: rank each view's unmasked items (ties by lower index), sum 1 / (k + rank)."""
    out = []
    for row_a, row_b, row_mask in zip(scores_a, scores_b, masked, strict=True):
        items = [i for i in range(len(row_a)) if not row_mask[i]]
        rank_a = {i: r + 1 for r, i in enumerate(sorted(items, key=lambda i: (-row_a[i], i)))}
        rank_b = {i: r + 1 for r, i in enumerate(sorted(items, key=lambda i: (-row_b[i], i)))}
        out.append({i: 1 / (rrf_k + rank_a[i]) + 1 / (rrf_k + rank_b[i]) for i in items})
    return out


def test_rrf_equals_brute_force_with_ties_and_masks():
    rng = np.random.default_rng(3)
    scores_a = rng.integers(0, 3, size=(6, 9)).astype(float)  # integer scores plant many ties
    scores_b = rng.integers(0, 3, size=(6, 9)).astype(float)
    masked = rng.random((6, 9)) < 0.25
    got = rrf_scores(torch.tensor(scores_a), torch.tensor(scores_b), torch.tensor(masked), rrf_k=2.0).numpy()
    expected = _brute_force_rrf(scores_a, scores_b, masked, 2.0)
    for u in range(6):
        for i in range(9):
            if masked[u, i]:
                assert got[u, i] == float("-inf")
            else:
                assert got[u, i] == pytest.approx(expected[u][i], abs=1e-12)


def test_rrf_topk_on_a_tiny_workspace_matches_brute_force(tmp_path):
    ws = Workspace(tmp_path)
    rng = np.random.default_rng(5)
    n_users, n_items = 4, 7
    pairs = {
        "train": [(u, int(rng.integers(n_items))) for u in range(n_users)],
        "valid": [],
        "test": [(u, (u + 3) % n_items) for u in range(n_users)],
    }
    pairs["test"] = [p for p in pairs["test"] if p not in pairs["train"]]
    write_interactions(ws, n_users, n_items, pairs)
    vectors = {}
    for view in ("a", "b"):
        users, items = (
            rng.integers(-2, 3, size=(n_users, 2)).astype(np.float32),
            rng.integers(-2, 3, size=(n_items, 2)).astype(np.float32),
        )
        ws.write_vectors(view, "user", [f"u{u}" for u in range(n_users)], users)
        ws.write_vectors(view, "item", [f"i{i}" for i in range(n_items)], items)
        vectors[view] = users @ items.T
    fuse(ws, "a,b", "rrf", "r", k=3, rrf_k=60, device="cpu")
    masked = np.zeros((n_users, n_items), dtype=bool)
    for u, i in pairs["train"]:
        masked[u, i] = True
    expected = _brute_force_rrf(vectors["a"], vectors["b"], masked, 60)
    got = _lists(ws, "r")
    for u in range(n_users):
        best = sorted(expected[u], key=lambda i: (-expected[u][i], i))[:3]
        assert got[f"u{u}"] == [f"i{i}" for i in best]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"views": "a", "method": "score", "view": "x"}, "two different view names"),
        ({"views": "a,a", "method": "score", "view": "x"}, "two different view names"),
        ({"views": "a,b", "method": "scroe", "view": "x"}, "did you mean 'score'"),
        ({"views": "a,b", "method": "score", "view": "a"}, "needs a new name"),
        ({"views": "a,b", "method": "score", "view": "x", "weight": 1.5}, r"\[0, 1\]"),
        ({"views": "a,b", "method": "score", "view": "x", "norm": "l2"}, "unknown norm"),
        ({"views": "a,b", "method": "rrf", "view": "x", "exclude": "valid"}, "--exclude"),
        ({"views": "a,b", "method": "score", "view": "x", "k": 10_000}, "--k must be"),
        ({"views": "a,nope", "method": "score", "view": "x"}, "unknown view 'nope'"),
        ({"views": "a,b", "method": "score", "view": "Bad Name"}, "invalid view name"),
    ],
)
def test_bad_input_gets_one_clear_error(planted, kwargs, message):
    with pytest.raises(ComplementError, match=message):
        fuse(planted, kwargs.pop("views"), kwargs.pop("method"), kwargs.pop("view"), device="cpu", **kwargs)


def test_fuse_needs_user_vectors(tmp_path):
    ws = planted_workspace(tmp_path, n_users=20, n_items=30, per_user=10)
    ws.write_vectors("items-only", "item", [f"i{i}" for i in range(30)], np.ones((30, 2)))
    with pytest.raises(ComplementError, match="no user vectors"):
        fuse(ws, "a,items-only", "rrf", "x", k=5, device="cpu")


def _cli_main():
    from complement.cli import app as app_module
    from complement.cli import fuse as fuse_cli

    if not any(c.name == "fuse" for c in app_module.app.registered_commands):
        fuse_cli.register(app_module.app)  # until the integrator wires it into cli/app.py
    return app_module.main


def test_cli_fuse_writes_the_view_and_reports_errors_in_one_line(planted, capsys):
    main = _cli_main()
    main(
        [
            "fuse",
            "--views",
            "a,b",
            "--method",
            "score",
            "--view",
            "cli-score",
            "--weight",
            "0.5",
            "--k",
            "10",
            "--device",
            "cpu",
            "-w",
            str(planted.root),
        ]
    )
    assert planted.query("SELECT count(*) FROM topk WHERE view = 'cli-score'").column(0)[0].as_py() == 400 * 10
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["fuse", "--views", "a,b", "--method", "mean", "--view", "x", "-w", str(planted.root)])
    assert exit_info.value.code == 2  # a typo in a choice is the parser's usage error
    err = capsys.readouterr().err
    assert err.startswith("Usage:") and "Invalid value for '--method'" in err and "'mean' is not one of" in err


def test_topk_rows_equals_a_stable_sort_with_many_ties_and_masks():
    from complement.fusion.kernels import topk_rows

    rng = np.random.default_rng(11)
    scores = torch.tensor(rng.integers(0, 4, size=(50, 40)), dtype=torch.float64)
    scores[torch.tensor(rng.random((50, 40)) < 0.3)] = float("-inf")
    scores[0, :] = float("-inf")  # a row with nothing unmasked
    for k in (1, 5, 13, 40):
        indices, values = topk_rows(scores, k)
        expected_values, expected_indices = torch.sort(scores, dim=1, descending=True, stable=True)
        assert torch.equal(indices, expected_indices[:, :k])
        assert torch.equal(values, expected_values[:, :k])


@pytest.mark.parametrize("method", ["score", "rrf"])
def test_exclude_train_plus_valid_masks_validation_items_too(planted, method):
    weight = {"weight": 0.5} if method == "score" else {}  # rrf has no weight (giving one is refused)
    fuse(planted, "a,b", method, f"tv-{method}", **weight, k=20, exclude="train+valid", device="cpu")
    leaked = (
        planted.query(
            """SELECT count(*) FROM topk t JOIN interactions x USING (user_id, item_id)
           WHERE t.view = $v AND x.split IN ('train', 'valid')""",
            {"v": f"tv-{method}"},
        )
        .column(0)[0]
        .as_py()
    )
    assert leaked == 0
