"""`train --bag N` (a seed bag): N models of one kind, member j trained with seed + 1000 j, one view whose
score is the members' mean score; checked against the members trained one by one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_train_models import FAST, N_ITEMS, N_USERS, planted_workspace

from complement.checks import SEED_MAX
from complement.cli.app import main
from complement.embed.train import load_train_data, recall_at_k, train_view
from complement.errors import ConfigError

MF = {**FAST["mf"], "epochs": 10, "min_epochs": 5, "device": "cpu", "dim": 8}


@pytest.fixture(scope="module")
def bagged(tmp_path_factory):
    """One workspace: a bag of three mf models (seed 5) and the three members trained alone."""
    ws = planted_workspace(tmp_path_factory.mktemp("bag") / "ws")
    summary = train_view(ws, "mf", "mfbag", k=10, seed=5, bag=3, announce=False, **MF)
    for j, seed in enumerate((5, 1005, 2005)):
        train_view(ws, "mf", f"mf{j}", k=10, seed=seed, announce=False, **MF)
    return ws, summary


def scores(ws, view):
    _, users = ws.read_vectors(view, "user")
    _, items = ws.read_vectors(view, "item")
    return users.astype(np.float64) @ items.T.astype(np.float64), users, items


def test_bag_scores_are_the_members_mean_score(bagged):
    ws, _ = bagged
    bag, users, items = scores(ws, "mfbag")
    assert users.shape == (N_USERS, 24) and items.shape == (N_ITEMS, 24)  # three 8-d members side by side
    members = [scores(ws, f"mf{j}")[0] for j in range(3)]
    np.testing.assert_allclose(bag, sum(members) / 3, rtol=1e-5, atol=1e-6)
    # the members are different models (else the bag would prove nothing)
    assert not np.allclose(members[0], members[1])


def test_bag_metrics_and_params(bagged):
    ws, summary = bagged
    runs = {
        r["view"]: (json.loads(r["params"]), json.loads(r["metrics"]))
        for r in ws.query("SELECT view, params, metrics FROM runs WHERE step = 'train'").to_pylist()
    }
    params, metrics = runs["mfbag"]
    assert params["bag"] == 3 and params["seed"] == 5
    assert "bag" not in runs["mf0"][0]  # one model records no bag: views trained before bags stay up to date
    members = metrics["members"]
    assert [m["seed"] for m in members] == [5, 1005, 2005]
    # each member is the model trained alone with its seed: same epochs and validation recall
    for j, member in enumerate(members):
        alone = runs[f"mf{j}"][1]
        assert member["epochs_run"] == alone["epochs_run"]
        assert member["best_valid_recall@20"] == pytest.approx(alone["best_valid_recall@20"], abs=1e-12)
    assert metrics["epochs_run"] == sum(m["epochs_run"] for m in members) and metrics["bag"] == 3
    data = load_train_data(ws)
    _, users = ws.read_vectors("mfbag", "user")
    _, items = ws.read_vectors("mfbag", "item")
    assert metrics["best_valid_recall@20"] == pytest.approx(recall_at_k(users, items, data.train, data.valid, 20))
    seen = tuple(np.concatenate(pair) for pair in zip(data.train, data.valid, strict=True))
    assert summary["test_recall@20"] == pytest.approx(recall_at_k(users, items, seen, data.test, 20))
    assert metrics["test_recall@20"] == summary["test_recall@20"]


@pytest.mark.parametrize("bag", [0, -1, 21, True, 2.5, "3"])
def test_bad_bag_is_refused_before_writing(tmp_path, bag):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(ConfigError, match="bag"):
        train_view(ws, "pop", bag=bag)
    assert not ws.has_table("topk") and not ws.has_table("runs")


def test_bag_whose_last_seed_overflows_is_refused_before_writing(tmp_path):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(ConfigError, match=rf"last model with seed .* above the largest seed {SEED_MAX}"):
        train_view(ws, "random", seed=SEED_MAX - 1000, bag=3)
    assert not ws.has_table("topk") and not ws.has_table("runs")
    train_view(ws, "random", seed=SEED_MAX - 2000, bag=3, announce=False)  # the last member at SEED_MAX
    assert ws.read_vectors("random", "item")[1].shape == (N_ITEMS, 3 * 64)


def test_cli_bag_flag(tmp_path, capsys):
    ws = planted_workspace(tmp_path / "ws")
    main(["train", "random", "-w", str(ws.root), "--k", "5", "--bag", "2", "--dim", "4"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["bag"] == 2 and [m["seed"] for m in summary["members"]] == [2020, 3020]
    assert ws.read_vectors("random", "user")[1].shape == (N_USERS, 8)
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "random", "-w", str(ws.root), "--bag", "0"])
    assert exit_info.value.code != 0
