"""Contract tests for `complement train`: every model on a small planted dataset."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import torch

from complement.cli.app import main
from complement.embed.models import MODELS, create_model
from complement.embed.train import TrainData, load_train_data, recall_at_k, train_view
from complement.errors import ConfigError, DataError, WorkspaceError
from complement.workspace import Workspace

N_USERS, N_ITEMS, FACTORS, PER_USER = 240, 120, 6, 24


def planted_workspace(path, seed: int = 7) -> Workspace:
    """Users and items with latent factors; each user's items drawn by softmax(4 · u·v), split 8:1:1.
    Item text vectors (view 'semantic') = the item factors through a random 32-d map plus noise."""
    rng = np.random.default_rng(seed)
    user_factors = rng.standard_normal((N_USERS, FACTORS))
    item_factors = rng.standard_normal((N_ITEMS, FACTORS))
    logits = 4 * (user_factors @ item_factors.T) / np.sqrt(FACTORS)
    users, items, splits = [], [], []
    for user in range(N_USERS):
        p = np.exp(logits[user] - logits[user].max())
        chosen = rng.choice(N_ITEMS, size=PER_USER, replace=False, p=p / p.sum())
        users += [user] * PER_USER
        items += chosen.tolist()
        splits += ["train"] * 19 + ["valid"] * 2 + ["test"] * 3
    ws = Workspace(path)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": [f"i{i}" for i in range(N_ITEMS)],
                "item_idx": list(range(N_ITEMS)),
                "title": [f"item {i}" for i in range(N_ITEMS)],
                "text": [f"item {i}" for i in range(N_ITEMS)],
                "n_train": [0] * N_ITEMS,
                "pop_group": ["mid"] * N_ITEMS,
            }
        ),
    )
    ws.write_table(
        "users",
        pa.table(
            {"user_id": [f"u{u}" for u in range(N_USERS)], "user_idx": list(range(N_USERS)), "n_train": [19] * N_USERS}
        ),
    )
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": [f"u{u}" for u in users],
                "item_id": [f"i{i}" for i in items],
                "ts": pa.nulls(len(users), pa.int64()),
                "rating": pa.nulls(len(users), pa.float64()),
                "split": splits,
            }
        ),
    )
    text = item_factors @ rng.standard_normal((FACTORS, 32)) + 0.3 * rng.standard_normal((N_ITEMS, 32))
    ws.write_vectors("semantic", "item", [f"i{i}" for i in range(N_ITEMS)], text.astype(np.float32))
    return ws


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_workspace(tmp_path_factory.mktemp("planted"))


FAST = {
    "lightgcn": {"epochs": 25, "min_epochs": 25, "batch_size": 1024, "eval_every": 5},
    "mf": {"epochs": 25, "min_epochs": 25, "batch_size": 1024, "eval_every": 5, "lr": 1e-2},
    "semantic": {"epochs": 10, "min_epochs": 10, "batch_size": 512, "lr": 1e-2, "negatives": 64},
    "alpharec": {"epochs": 8, "min_epochs": 8, "batch_size": 1024, "lr": 1e-3, "negatives": 64},
    "pop": {},
    "random": {},
}


def test_registry_lists_every_model():
    assert {"alpharec", "lightgcn", "mf", "pop", "random", "semantic"} <= set(MODELS)


@pytest.fixture(scope="module")
def test_recalls(planted):
    data = load_train_data(planted, "semantic")
    seen = tuple(np.concatenate(pair) for pair in zip(data.train, data.valid, strict=True))
    recalls = {}
    for name, settings in FAST.items():
        model = create_model(name, device="cpu", **settings)
        model.fit(data)
        recalls[name] = recall_at_k(
            torch.from_numpy(model.user_embeddings()), torch.from_numpy(model.item_embeddings()), seen, data.test, 20
        )
    return recalls


@pytest.mark.parametrize("name", ["lightgcn", "mf", "semantic", "alpharec"])
def test_trained_model_beats_pop_and_random(test_recalls, name):
    assert test_recalls[name] > test_recalls["pop"], test_recalls
    assert test_recalls[name] > test_recalls["random"], test_recalls


def test_validation_recall_counts_a_repeated_truth_pair_once():
    """Sequence data keeps repeated (user, item) pairs; T(u) is a set, as in the metrics diagnostic."""
    users = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    items = torch.tensor([[0.0, 1.0], [3.0, 0.0], [2.0, 0.0]])  # user scores: item 1 > item 2 > item 0
    seen = (np.array([1]), np.array([0]))
    truth = (np.array([0, 0, 0, 1]), np.array([1, 1, 0, 2]))  # user 0: {1, 0} with item 1 twice; user 1: {2}
    # user 0: top-1 = item 1, recall 1/2 (3 truth rows would give 1/3); user 1 (item 0 seen): top-1 = item 1, a miss
    assert recall_at_k(users, items, seen, truth, k=1) == pytest.approx((1 / 2 + 0) / 2)
    assert recall_at_k(users, items, seen, truth, k=2) == pytest.approx((1 / 2 + 1) / 2)


def test_pop_topk_reproduces_popularity_order(planted):
    data = load_train_data(planted)
    model = create_model("pop")
    model.fit(data)
    counts = data.item_counts()
    items, _ = model.recommend(np.array([0]), N_ITEMS)
    # descending count, ties by lower item index, nothing masked
    assert items[0].tolist() == sorted(range(N_ITEMS), key=lambda i: (-counts[i], i))


def test_recommend_masks_seen_items_and_breaks_ties_by_index():
    model = create_model("pop")
    model.fit(TrainData(2, 4, (np.array([0, 1, 1]), np.array([2, 2, 3]))))
    items, scores = model.recommend(np.array([0, 1]), 3, seen=(np.array([0]), np.array([2])))
    assert items.tolist() == [[3, 0, 1], [2, 3, 0]]
    assert scores[0, 0] == pytest.approx(np.log1p(1))


@pytest.mark.parametrize("name", ["lightgcn", "semantic", "alpharec", "random"])
def test_same_seed_gives_identical_embeddings(planted, name):
    data = load_train_data(planted, "semantic")
    settings = {**FAST[name], "epochs": 4, "min_epochs": 4, "eval_every": 2}
    first, second = create_model(name, seed=3, **settings), create_model(name, seed=3, **settings)
    first.fit(data)
    second.fit(data)
    np.testing.assert_array_equal(first.item_embeddings(), second.item_embeddings())
    np.testing.assert_array_equal(first.user_embeddings(), second.user_embeddings())
    third = create_model(name, seed=4, **settings)
    third.fit(data)
    assert not np.array_equal(first.item_embeddings(), third.item_embeddings())


def test_train_view_writes_embeddings_topk_and_runs_row(tmp_path):
    ws = planted_workspace(tmp_path / "ws")
    summary = train_view(
        ws, "lightgcn", "cf", k=10, device="cpu", epochs=10, min_epochs=5, eval_every=5, batch_size=1024
    )
    assert summary["view"] == "cf" and summary["epochs_run"] == 10
    _ids, users = ws.read_vectors("cf", "user")
    assert users.shape == (N_USERS, 64)
    assert ws.read_vectors("cf", "item")[1].shape == (N_ITEMS, 64)
    counts = ws.query(
        "SELECT count(*) AS n, count(DISTINCT user_id) AS u, max(rank) AS k FROM topk WHERE view = 'cf'"
    ).to_pylist()[0]
    assert counts == {"n": N_USERS * 10, "u": N_USERS, "k": 10}
    run = ws.query("SELECT seed, params, metrics FROM runs WHERE step = 'train' AND view = 'cf'").to_pylist()
    assert len(run) == 1 and run[0]["seed"] == 2020
    params, metrics = json.loads(run[0]["params"]), json.loads(run[0]["metrics"])
    assert params["model"] == "lightgcn" and params["layers"] == 2 and params["epochs"] == 10
    assert metrics["epochs_run"] == 10 and 0 < metrics["best_valid_recall@20"] <= 1 and "train_seconds" in metrics


def test_cli_train_prints_summary_json(tmp_path, capsys):
    ws = planted_workspace(tmp_path / "ws")
    main(["train", "pop", "-w", str(ws.root), "--k", "5"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["view"] == "pop" and summary["test_recall@20"] > 0
    assert ws.parts("topk") == ["pop"]


def test_cli_train_summary_in_other_formats(tmp_path, capsys):
    ws = planted_workspace(tmp_path / "ws")
    main(["train", "pop", "-w", str(ws.root), "--k", "5", "--format", "csv"])
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header.split(",")[:2] == ["view", "model"] and row.startswith("pop,pop,")
    main(["train", "pop", "-w", str(ws.root), "--k", "5", "-f", "markdown"])
    assert capsys.readouterr().out.startswith("| view | model |")


def test_cli_unknown_model_lists_models(tmp_path, capsys):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "lightgnc", "-w", str(ws.root)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert (
        err == f"Error: unknown model 'lightgnc' — did you mean 'lightgcn'? (choose from: {', '.join(sorted(MODELS))})"
    )


def test_empty_train_split_is_a_clear_error_and_writes_nothing(tmp_path):
    ws = planted_workspace(tmp_path / "ws")
    interactions = ws.read_table("interactions")
    ws.write_table("interactions", interactions.set_column(4, "split", pa.array(["test"] * interactions.num_rows)))
    with pytest.raises(DataError, match="train split is empty"):
        train_view(ws, "mf", device="cpu")
    assert ws.parts("topk") == [] and "mf" not in ws.views()


def test_semantic_without_text_view_says_run_embed(tmp_path):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match=r"run `complement embed` first"):
        train_view(ws, "semantic", text_view="minilm", device="cpu")


def test_k_larger_than_catalogue_and_unknown_model_write_nothing(tmp_path):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(DataError, match="larger than the catalogue"):
        train_view(ws, "pop", k=N_ITEMS + 1)
    with pytest.raises(ConfigError, match="unknown model"):
        train_view(ws, "bert4rec")
    assert not ws.has_table("topk") and not ws.has_table("runs")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error_and_writes_nothing(tmp_path):
    from complement.errors import DeviceError

    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(DeviceError, match="no CUDA device"):
        train_view(ws, "lightgcn", device="cuda")
    assert not ws.has_table("topk") and not ws.has_table("runs")
