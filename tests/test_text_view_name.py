"""The text vectors live in view 'text' (the trained semantic baseline writes 'sem'); a workspace written
before the rename, with its text vectors in view 'semantic', still trains text models, with a note."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from complement import Workspace
from complement.data.synth import synthesize
from complement.embed.views import DEFAULT_TEXT_VIEW, text_view_for


@pytest.fixture
def legacy_ws(tmp_path):
    root = tmp_path / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    ws = Workspace(root)
    vectors = np.random.default_rng(0).normal(size=(len(ws.item_ids()), 8))
    ws.write_vectors("semantic", "item", ws.item_ids(), vectors)  # where earlier versions put them
    return ws, vectors


def test_text_models_read_legacy_semantic_vectors_with_a_one_line_note(legacy_ws, capsys, monkeypatch):
    ws, _ = legacy_ws
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    code, _, err = run_cli(
        capsys, "train", "semantic", "-w", str(ws.root), "--epochs", "1", "--min-epochs", "1", "--k", "10"
    )
    assert code == 0
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: no view 'text' in embeddings; reading the text vectors of view 'semantic' "
        "(written by an earlier version; pass --text-view to choose)"
    ]
    assert "sem" in ws.parts("topk")
    assert "text" not in ws.parts("embeddings")


def test_the_text_view_wins_over_legacy_vectors_and_an_explicit_view_is_kept(legacy_ws):
    ws, vectors = legacy_ws
    assert text_view_for(ws, DEFAULT_TEXT_VIEW) == "semantic"
    assert text_view_for(ws, "mine") == "mine"
    ws.write_vectors("text", "item", ws.item_ids(), vectors)
    assert text_view_for(ws, DEFAULT_TEXT_VIEW) == "text"


def test_a_trained_view_named_semantic_is_not_taken_for_text_vectors(legacy_ws):
    ws, _ = legacy_ws
    ws.write_vectors("semantic", "user", ws.user_ids(), np.ones((len(ws.user_ids()), 8)))
    assert text_view_for(ws, DEFAULT_TEXT_VIEW) == "text"
