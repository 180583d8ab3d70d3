"""`ease` and `ease-text`: the closed forms against independent computations, the validation grid, the checks.

The independent EASE solves each item's column as its own ridge regression on the other items' columns (the
constraint diag(B) = 0 by leaving the item out), in plain numpy; the model uses the Lagrangian closed form
B = I − P diag(1/diag P). ``ease-text`` is checked against EASE of the train matrix with the normalised text
vectors stacked under it as sqrt(a)-weighted pseudo-users, the collective form it is defined as."""

from __future__ import annotations

import json

import numpy as np
import pytest
from small_train_data import small_train_data
from test_train_models import planted_workspace

from complement.cli.app import main
from complement.embed.models import create_model
from complement.embed.models import ease as ease_module
from complement.embed.train import TrainData, recall_at_k
from complement.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def data() -> TrainData:
    return small_train_data()


def train_matrix(data: TrainData) -> np.ndarray:
    x = np.zeros((data.n_users, data.n_items))
    x[data.train[0], data.train[1]] = 1.0
    return x


def ridge_per_item(rows: np.ndarray, l2: float) -> np.ndarray:
    """B column by column: item j's column predicted from the others' by ridge regression, B[j, j] = 0."""
    n = rows.shape[1]
    weights = np.zeros((n, n))
    for j in range(n):
        others = np.delete(np.arange(n), j)
        a = rows[:, others]
        weights[others, j] = np.linalg.solve(a.T @ a + l2 * np.eye(n - 1), a.T @ rows[:, j])
    return weights


def scores(model) -> np.ndarray:
    return model.user_embeddings().astype(np.float64) @ model.item_embeddings().astype(np.float64).T


def test_ease_equals_a_ridge_regression_per_item(data):
    model = create_model("ease", l2=30.0)
    model.fit(data)
    x = train_matrix(data)
    expected = x @ ridge_per_item(x, 30.0)
    np.testing.assert_allclose(scores(model), expected, rtol=0, atol=1e-5)
    assert model.item_embeddings().shape == (data.n_items, data.n_items)
    assert np.all(np.diag(model.item_embeddings()) == 0)  # no item recommends itself


def test_ease_text_equals_ease_with_the_text_as_weighted_pseudo_users(data):
    alpha, l2 = 5.0, 30.0
    model = create_model("ease-text", l2=l2, text_weight=alpha)
    model.fit(data)
    x = train_matrix(data)
    text = data.text_vectors.astype(np.float64)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    stacked = np.vstack([x, np.sqrt(alpha) * text.T])  # the text dimensions as extra rows
    np.testing.assert_allclose(scores(model), x @ ridge_per_item(stacked, l2), rtol=0, atol=1e-5)
    plain = create_model("ease-text", l2=l2, text_weight=0.0)
    plain.fit(data)
    ease = create_model("ease", l2=l2)
    ease.fit(data)
    np.testing.assert_array_equal(plain.item_embeddings(), ease.item_embeddings())
    assert not np.allclose(model.item_embeddings(), ease.item_embeddings())


def test_unset_weights_are_the_grid_point_with_the_best_validation_recall(data):
    model = create_model("ease-text", valid_users=0)
    fit = model.fit(data)
    grid = fit.extra["grid"]
    assert len(grid) == len(ease_module.L2_GRID) * len(ease_module.TEXT_WEIGHT_GRID)
    best = max(grid, key=lambda point: point["valid_recall@20"])  # max keeps the first of equal points
    assert (fit.extra["l2"], fit.extra["text_weight"]) == (best["l2"], best["text_weight"])
    assert fit.best_valid_recall == pytest.approx(best["valid_recall@20"])
    # each grid point's recall is that of the model fitted with those weights
    point = grid[11]
    fixed = create_model("ease-text", l2=point["l2"], text_weight=point["text_weight"])
    fixed.fit(data)
    recall = recall_at_k(fixed.user_embeddings(), fixed.item_embeddings(), data.train, data.valid, 20)
    assert recall == pytest.approx(point["valid_recall@20"])
    # one weight given: the grid runs over the other only
    only_alpha = create_model("ease-text", l2=200.0, valid_users=0).fit(data)
    assert {p["l2"] for p in only_alpha.extra["grid"]} == {200.0}


def test_ease_checks_its_weights_and_inputs(data):
    with pytest.raises(ConfigError, match="unknown hyperparameter 'text_weight'"):
        create_model("ease", text_weight=1.0)
    no_valid = TrainData(data.n_users, data.n_items, data.train)
    with pytest.raises(DataError, match="validation split, which is empty"):
        create_model("ease").fit(no_valid)
    create_model("ease", l2=10.0).fit(no_valid)  # given weights need no validation split
    with pytest.raises(DataError, match="needs item text vectors"):
        create_model("ease-text", l2=10.0, text_weight=1.0).fit(no_valid)


def test_a_catalogue_above_the_limit_is_refused_before_any_work(data, monkeypatch):
    monkeypatch.setattr(ease_module, "MAX_ITEMS", data.n_items - 1)
    with pytest.raises(DataError, match="above its limit"):
        create_model("ease", l2=10.0).fit(data)


def test_cli_trains_ease_text_and_records_the_weights(tmp_path, capsys):
    ws = planted_workspace(tmp_path / "ws")
    main(["train", "ease-text", "-w", str(ws.root), "--text-view", "semantic", "--l2", "50", "--text-weight", "10"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["view"] == "ease-text" and summary["l2"] == 50.0 and summary["text_weight"] == 10.0
    assert ws.read_vectors("ease-text", "item")[1].shape[1] == ws.read_vectors("ease-text", "user")[1].shape[1]
    run = ws.query("SELECT params, metrics FROM runs WHERE step = 'train' AND view = 'ease-text'").to_pylist()[0]
    assert json.loads(run["params"])["l2"] == 50.0 and json.loads(run["metrics"])["text_weight"] == 10.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ease", "--l2", "0"], "--l2"),
        (["ease", "--l2", "-3"], "--l2"),
        (["ease-text", "--text-weight", "-1"], "--text-weight"),
        (["ease", "--text-weight", "1"], "text_weight"),
    ],
)
def test_cli_rejects_bad_weights_before_writing(tmp_path, capsys, args, message):
    ws = planted_workspace(tmp_path / "ws")
    with pytest.raises(SystemExit) as exit_info:
        main(["train", *args, "-w", str(ws.root), "--text-view", "semantic"])
    assert exit_info.value.code != 0
    assert message in capsys.readouterr().err
    assert ws.parts("topk") == []


def test_an_experiment_file_declares_the_weights_and_checks_them(tmp_path, capsys):
    from complement import Workspace
    from complement.experiment import load

    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        '[dataset]\nkind = "synthetic"\nusers = 60\nitems = 40\ninteractions_per_user = 10\n'
        '[[view]]\nname = "et"\nmodel = "ease-text"\ntext_view = "truth_semantic"\n'
        "l2 = 50.0\ntext_weight = 10.0\nk = 20\n"
        "[run]\nseeds = [1]\n",
        encoding="utf-8",
    )
    for bad, key in (("view.et.l2=0.0", "l2"), ("view.et.text_weight=-1.0", "text_weight")):
        with pytest.raises(ConfigError, match=key):
            load(experiment, [bad])
    main(["run", str(experiment), "-w", str(tmp_path / "ws")])
    run = Workspace(tmp_path / "ws").query("SELECT params FROM runs WHERE step = 'train' AND view = 'et-s1'")
    params = json.loads(run.to_pylist()[0]["params"])
    assert (params["l2"], params["text_weight"]) == (50.0, 10.0)
