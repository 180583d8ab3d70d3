"""Shared plus private fusion (``complement fuse --method cca``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_fusion_data import planted_workspace, recall_at
from test_fusion_learned import N_USERS, split_users_workspace

from complement import Workspace
from complement.fusion import fuse
from complement.fusion.cca import cca_topk, shared_subspace
from complement.fusion.kernels import SeenMask
from complement.fusion.score import score_fusion_topk


def _planted_items(n_items: int = 3000, shared: int = 3, private: int = 4, seed: int = 0):
    """Two item spaces that share ``shared`` factors S (each mixed by its own random map) plus
    private noise blocks; returns (items_a, items_b, S)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n_items, shared))
    own_a, own_b = rng.normal(size=(n_items, private)), rng.normal(size=(n_items, private))
    # well-conditioned mixing (rotation times scales 0.5..2) so a small ridge barely moves the correlations
    scales = np.linspace(0.5, 2.0, shared + private)
    mix_a = np.linalg.qr(rng.normal(size=(shared + private, shared + private)))[0] * scales
    mix_b = np.linalg.qr(rng.normal(size=(shared + private, shared + private)))[0] * scales
    items_a = np.hstack([common, own_a]) @ mix_a + 0.01 * rng.normal(size=(n_items, shared + private))
    items_b = np.hstack([common, own_b]) @ mix_b + 0.01 * rng.normal(size=(n_items, shared + private))
    return items_a, items_b, common


def _plain_canonical_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unregularised CCA the textbook way: singular values of Q_x^T Q_y over the centred data."""
    q_x, _ = np.linalg.qr(x - x.mean(axis=0))
    q_y, _ = np.linalg.qr(y - y.mean(axis=0))
    return np.linalg.svd(q_x.T @ q_y, compute_uv=False)


@pytest.mark.parametrize(("regularisation", "tolerance"), [(0.0, 1e-8), (1e-3, 5e-3)])
def test_shared_subspace_recovers_a_planted_common_factor(regularisation, tolerance):
    items_a, items_b, common = _planted_items()
    space = shared_subspace(items_a, items_b, regularisation=regularisation)
    expected = _plain_canonical_correlations(items_a, items_b)
    np.testing.assert_allclose(space.correlations, expected, atol=tolerance)
    assert (space.correlations[:3] > 0.99).all()  # the three planted shared factors
    assert (space.correlations[3:] < 0.1).all()  # independent private blocks
    # the first three canonical variates of view A span the planted factors
    variates = (items_a - items_a.mean(axis=0)) @ space.inverse_root_a @ space.directions_a[:, :3]
    centred = common - common.mean(axis=0)
    fitted = variates @ np.linalg.lstsq(variates, centred, rcond=None)[0]
    r_squared = 1 - ((centred - fitted) ** 2).sum(axis=0) / (centred**2).sum(axis=0)
    assert (r_squared > 0.99).all()


def _random_views(seed: int = 3, n_users: int = 40, n_items: int = 60, dim_a: int = 5, dim_b: int = 7):
    rng = np.random.default_rng(seed)
    return [
        (torch.from_numpy(rng.normal(size=(n_users, d))), torch.from_numpy(rng.normal(size=(n_items, d))))
        for d in (dim_a, dim_b)
    ]


def _seen(n_users: int, n_items: int, seed: int = 4) -> SeenMask:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), 5)
    items = np.concatenate([rng.choice(n_items, 5, replace=False) for _ in range(n_users)])
    return SeenMask(n_users, n_items, (users, items))


def _plain_topk(scores: np.ndarray, seen: SeenMask, k: int) -> np.ndarray:
    out = []
    for u, row in enumerate(scores):
        masked = set(seen.items_of(u).tolist())
        order = [int(i) for i in np.argsort(-row, kind="stable") if int(i) not in masked]
        out.append(order[:k])
    return np.array(out)


def test_lambda_a_one_lambda_b_zero_reproduces_view_a_ranking():
    views = _random_views()
    (user_a, item_a), (_, item_b) = views
    space = shared_subspace(item_a.numpy(), item_b.numpy())
    seen = _seen(40, 60)
    expected = _plain_topk(user_a.numpy() @ item_a.numpy().T, seen, 10)
    full = space.directions_a.shape[1]
    for weight, dimension in ((1.0, full), (1.0, 2), (0.5, 0)):
        indices, _ = cca_topk(
            views,
            space,
            10,
            weight=weight,
            dimension=dimension,
            lambda_a=1.0,
            lambda_b=0.0,
            seen=seen,
            device=torch.device("cpu"),
        )
        np.testing.assert_array_equal(indices, expected)


@pytest.mark.parametrize("dimension", [0, 3, 5])
def test_unit_lambdas_rank_like_score_fusion_at_any_dimension(dimension):
    views = _random_views(seed=8)
    space = shared_subspace(views[0][1].numpy(), views[1][1].numpy())
    seen = _seen(40, 60, seed=9)
    cpu = torch.device("cpu")
    expected, _ = score_fusion_topk(views, 10, weight=0.3, seen=seen, device=cpu)
    indices, _ = cca_topk(
        views, space, 10, weight=0.3, dimension=dimension, lambda_a=1.0, lambda_b=1.0, seen=seen, device=cpu
    )
    np.testing.assert_array_equal(indices, expected)


def test_cca_fusion_beats_both_views_on_planted_private_parts(tmp_path):
    from complement.scoring import write_topk

    ws = planted_workspace(tmp_path)
    for view in ("a", "b"):
        write_topk(ws, view, k=20, device="cpu")
    result = fuse(ws, "a,b", "cca", "cca", k=20, device="cpu")
    assert recall_at(ws, "cca") > max(recall_at(ws, "a"), recall_at(ws, "b")) + 0.1
    row = ws.query("SELECT params, metrics FROM runs WHERE step = 'fuse' AND view = 'cca'").to_pylist()[-1]
    metrics = json.loads(row["metrics"])
    assert metrics == result.fit
    assert {"weight", "dimension", "lambda_a", "lambda_b", "validation_recall@20"} <= metrics.keys()
    assert json.loads(row["params"])["method"] == "cca"


def _lists(ws: Workspace, view: str) -> list[tuple]:
    return [
        tuple(r.values())
        for r in ws.query(
            "SELECT user_id, rank, item_id, score FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}
        ).to_pylist()
    ]


def test_the_cca_lists_do_not_depend_on_the_test_split(tmp_path):
    lists = []
    for seed in (None, 5):
        ws = split_users_workspace(tmp_path / f"ws-{seed}", test_seed=seed)
        fuse(ws, "a,b", "cca", "fused", k=20, exclude="train+valid", device="cpu")
        lists.append(_lists(ws, "fused"))
        leaked = ws.query(
            """SELECT count(*) FROM topk t JOIN interactions x USING (user_id, item_id)
               WHERE t.view = 'fused' AND x.split IN ('train', 'valid')"""
        )
        assert leaked.column(0)[0].as_py() == 0
    assert lists[0] == lists[1]


def test_cli_offers_cca(tmp_path, capsys):
    from complement.cli import app as app_module

    ws = split_users_workspace(tmp_path)
    args = ["fuse", "--views", "a,b", "--view", "cli-cca", "--k", "10", "--device", "cpu", "-w", str(ws.root)]
    app_module.main([*args, "--method", "cca"])
    assert ws.query("SELECT count(*) FROM topk WHERE view = 'cli-cca'").column(0)[0].as_py() == N_USERS * 10
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        app_module.main([*args, "--method", "pls"])
    assert exit_info.value.code == 2 and "cca" in capsys.readouterr().err
