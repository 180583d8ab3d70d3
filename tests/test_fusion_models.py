"""Trained fusion and alignment models: fusion, aligned-contrastive, aligned-mse.

The planted text vectors are view ``b``'s item vectors ([S, Pb]); the interactions follow [S, Pa, Pb]
(or [S, Pa] with ``users_see_b_private=False``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_fusion_data import planted_workspace, recall_at

from complement.embed.models import create_model
from complement.embed.models.aligned import AlignedConfig, MSEAligned
from complement.embed.train import load_train_data, train_view
from complement.errors import WorkspaceError

TINY = {"epochs": 10, "min_epochs": 10, "eval_every": 5, "device": "cpu", "seed": 3}


@pytest.fixture(scope="module")
def tiny_ws(tmp_path_factory):
    return planted_workspace(tmp_path_factory.mktemp("tiny"), n_users=150, n_items=100, per_user=15)


@pytest.mark.parametrize("model", ["fusion", "aligned-contrastive", "aligned-mse"])
def test_trained_model_writes_a_view_that_beats_random(tiny_ws, model):
    baseline = train_view(tiny_ws, "random", "random-view", k=20, device="cpu", seed=3)
    summary = train_view(tiny_ws, model, f"{model}-view", k=20, text_view="b", **TINY)
    assert summary["test_recall@20"] > baseline["test_recall@20"] + 0.1
    assert recall_at(tiny_ws, f"{model}-view") > recall_at(tiny_ws, "random-view") + 0.1
    users = tiny_ws.read_vectors(f"{model}-view", "user")[1]
    items = tiny_ws.read_vectors(f"{model}-view", "item")[1]
    assert users.shape == (150, 128 if model == "fusion" else 64) and items.shape[1] == users.shape[1]
    assert np.isfinite(users).all() and np.isfinite(items).all()


def test_fusion_vectors_are_norm_concat_norm_of_unit_branches(tiny_ws):
    data = load_train_data(tiny_ws, text_view="b")
    model = create_model("fusion", epochs=1, min_epochs=1, eval_every=1, device="cpu")
    model.fit(data)
    np.testing.assert_allclose(np.linalg.norm(model.item_embeddings(), axis=1), 1.0, atol=1e-5)
    with torch.no_grad():
        (s_users, s_items), (c_users, c_items) = model.branches()
    fused_score = model.user_embeddings()[:3] @ model.item_embeddings()[:5].T
    mean_cosine = ((s_users[:3] @ s_items[:5].T + c_users[:3] @ c_items[:5].T) / 2).numpy()
    np.testing.assert_allclose(fused_score, mean_cosine, atol=1e-5)


def test_align_weight_reaches_the_model_and_is_recorded(tiny_ws):
    assert create_model("aligned-mse", align_weight=7.5).config.align_weight == 7.5
    assert isinstance(MSEAligned(create_model("lightgcn").config).config, AlignedConfig)
    train_view(
        tiny_ws,
        "aligned-mse",
        "mse-weighted",
        k=20,
        text_view="b",
        align_weight=3.0,
        **{**TINY, "epochs": 2, "min_epochs": 2},
    )
    import json

    params = json.loads(
        tiny_ws.query("SELECT params FROM runs WHERE view = 'mse-weighted' AND step = 'train'").column(0)[-1].as_py()
    )
    assert params["align_weight"] == 3.0 and params["model"] == "aligned-mse"


@pytest.mark.parametrize("model", ["fusion", "aligned-mse"])
def test_models_that_need_text_say_how_to_get_it(tiny_ws, model):
    with pytest.raises(WorkspaceError, match="complement embed"):
        train_view(tiny_ws, model, "x", k=20, text_view="no-such-view", **TINY)


SMALL = {"epochs": 30, "min_epochs": 30, "eval_every": 5, "device": "cpu", "seed": 1}


@pytest.mark.slow
def test_fusion_beats_lightgcn_and_semantic_with_private_parts_in_both_views(tmp_path):
    ws = planted_workspace(tmp_path, n_users=300, n_items=200, per_user=20, shared=4, private=6)
    recall = {
        m: train_view(ws, m, k=20, text_view="b", **SMALL)["test_recall@20"] for m in ("lightgcn", "semantic", "fusion")
    }
    assert recall["fusion"] > max(recall["lightgcn"], recall["semantic"]) + 0.05, recall


@pytest.mark.slow
def test_strong_mse_alignment_pulls_recall_toward_the_semantic_view(tmp_path):
    ws = planted_workspace(
        tmp_path, n_users=300, n_items=200, per_user=20, shared=4, private=6, users_see_b_private=False
    )
    semantic = train_view(ws, "semantic", k=20, text_view="b", **SMALL)["test_recall@20"]
    free = train_view(ws, "aligned-mse", "mse-0", k=20, text_view="b", align_weight=0.0, **SMALL)["test_recall@20"]
    strong = train_view(ws, "aligned-mse", "mse-10", k=20, text_view="b", align_weight=10.0, **SMALL)["test_recall@20"]
    assert free > semantic  # the collaborative-private part is worth something here
    assert strong < free
    assert abs(strong - semantic) < abs(free - semantic)
