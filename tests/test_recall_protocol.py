"""One recall per model: the lists `train` stores are masked like its own test evaluation (train + valid,
RecBole's full-ranking protocol), so the `metrics` diagnostic over them gives the recall `train` records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from complement import Workspace, diagnose
from complement.data.synth import synthesize
from complement.embed.train import train_view


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocol") / "ws"
    synthesize(root, users=80, items=50, interactions_per_user=10, seed=5)
    ws = Workspace(root)
    summary = train_view(ws, "mf", epochs=3, min_epochs=1, k=20, device="cpu")
    return ws, summary


def test_train_records_the_test_recall_that_the_metrics_diagnostic_computes(trained):
    ws, summary = trained
    row = diagnose(ws, "metrics", k=20, views=["mf"]).to_pylist()[0]
    recorded = json.loads(
        ws.query("SELECT metrics FROM runs WHERE step = 'train' AND view = 'mf' ORDER BY finished_at DESC LIMIT 1")
        .column(0)[0]
        .as_py()
    )["test_recall@20"]
    assert summary["test_recall@20"] == pytest.approx(recorded)
    assert row["recall"] == pytest.approx(recorded, abs=1e-9)
    assert 0 < recorded < 1  # a real figure, not the trivial 0 or 1


def test_train_lists_mask_train_and_valid_items_by_default(trained):
    ws, _ = trained
    shown_seen = ws.query(
        """SELECT count(*) FROM topk t JOIN interactions i ON i.user_id = t.user_id AND i.item_id = t.item_id
           WHERE t.view = 'mf' AND i.split IN ('train', 'valid')"""
    ).column(0)[0]
    assert shown_seen.as_py() == 0
    valid_pairs = ws.query("SELECT count(*) FROM interactions WHERE split = 'valid'").column(0)[0].as_py()
    assert valid_pairs > 0  # otherwise the check above proves nothing about valid items
    params = json.loads(ws.query("SELECT params FROM runs WHERE step = 'topk' AND view = 'mf'").column(0)[0].as_py())
    assert params["exclude"] == "train+valid"


def test_probe_recall_masks_what_the_evaluation_masks(trained):
    """With every item in the set and the true vectors, the probe's ``recall_true`` is the view's own
    test recall: train and valid items masked, as `train` and the stored lists mask them."""
    from complement.probes import inductive_recall, load_probe_data

    ws, summary = trained
    data = load_probe_data(ws, "mf", "mf")
    assert data.users is not None and data.seen is not None and data.test is not None
    every = np.arange(len(data.item_ids))
    recall = inductive_recall(data.users, data.target, data.target, every, data.test, data.seen, 20)["recall_true"]
    assert recall == pytest.approx(summary["test_recall@20"], abs=1e-12)
    train = ws.interaction_indices(("train",))
    train_only = inductive_recall(data.users, data.target, data.target, every, data.test, train, 20)["recall_true"]
    assert train_only != pytest.approx(recall)  # valid items do reach the lists here: the mask matters
