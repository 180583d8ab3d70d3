"""run_probe end to end on a tiny synthetic workspace: the probes rows, probe_summary.sql and the CLI."""

import json

import numpy as np
import pyarrow as pa
import pytest

from complement import Workspace
from complement.cli.app import main
from complement.errors import ConfigError, WorkspaceError
from complement.probes import probe_summary, run_probe


def make_probe_workspace(path, n_items=120, n_users=40, with_users=True, seed=0):
    """Items with popularity groups, train/test interactions drawn from the target geometry,
    a 24-d 'sem' view and an 8-d 'cf' view sharing 4 latent factors."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(n_items, 4))
    sem = np.hstack([shared, rng.normal(size=(n_items, 2))]) @ rng.normal(size=(6, 24))
    cf = np.hstack([shared, rng.normal(size=(n_items, 2))]) @ rng.normal(size=(6, 8))
    users = rng.normal(size=(n_users, 8))
    item_ids = [f"i{i}" for i in range(n_items)]
    user_ids = [f"u{u}" for u in range(n_users)]
    rows = []
    for u in range(n_users):
        liked = rng.choice(
            n_items, size=12, replace=False, p=np.exp(cf @ users[u] / 4) / np.exp(cf @ users[u] / 4).sum()
        )
        rows += [(user_ids[u], item_ids[i], "train" if j < 8 else "test") for j, i in enumerate(liked)]
    n_train = np.bincount([int(r[1][1:]) for r in rows if r[2] == "train"], minlength=n_items)
    low, high = np.quantile(n_train, 0.6), np.quantile(n_train, 0.8)
    pop = np.where(n_train <= low, "cold", np.where(n_train > high, "hot", "mid"))
    ws = Workspace(path)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": item_ids,
                "item_idx": range(n_items),
                "title": item_ids,
                "text": item_ids,
                "n_train": n_train,
                "pop_group": pop,
            }
        ),
    )
    ws.write_table("users", pa.table({"user_id": user_ids, "user_idx": range(n_users), "n_train": [8] * n_users}))
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": [r[0] for r in rows],
                "item_id": [r[1] for r in rows],
                "ts": [None] * len(rows),
                "rating": [None] * len(rows),
                "split": [r[2] for r in rows],
            }
        ),
    )
    ws.write_vectors("sem", "item", item_ids, sem)
    ws.write_vectors("cf", "item", item_ids, cf)
    if with_users:
        ws.write_vectors("cf", "user", user_ids, users)
    return ws


@pytest.fixture
def ws(tmp_path):
    return make_probe_workspace(tmp_path)


def test_run_probe_writes_one_row_per_mapper_shift_item_set_metric_seed(ws):
    table = run_probe(
        ws,
        "sem",
        "cf",
        mappers=("linear", "mlp:16"),
        shifts=("random", "popularity"),
        seeds=2,
        device="cpu",
        max_epochs=20,
    )
    rows = table.to_pylist()
    probe_rows = [r for r in rows if r["mapper"] != "cca"]
    keys = {(r["mapper"], r["shift"], r["item_set"], r["metric"], r["seed"]) for r in probe_rows}
    assert len(keys) == len(probe_rows)  # no duplicates
    for mapper in ("linear", "mlp:16"):
        for shift in ("random", "popularity"):
            for item_set in ("fit", "held_out"):
                for metric in (
                    "n_items",
                    "r2",
                    "cosine",
                    "knn_jaccard",
                    "cka",
                    "recall_true",
                    "recall_mapped",
                    "recall_drop",
                ):
                    assert {(mapper, shift, item_set, metric, s) for s in (0, 1)} <= keys
    assert {(r["metric"]) for r in rows if r["mapper"] == "mlp:16" and r["item_set"] == "fit"} >= {"best_epoch"}
    n_items = {(r["shift"], r["item_set"]): r["value"] for r in rows if r["metric"] == "n_items" and r["seed"] == 0}
    assert n_items[("random", "fit")] + n_items[("random", "held_out")] == 120
    assert n_items[("random", "held_out")] == 24
    cold = ws.query("SELECT count(*) FROM items WHERE pop_group = 'cold'").column(0)[0].as_py()
    assert n_items[("popularity", "held_out")] == cold
    assert {r["metric"] for r in rows if r["mapper"] == "cca"} >= {"n_shared_components", "linear_r2_all_items"}
    run_id = rows[0]["run_id"]
    assert ws.parts("probes") == [run_id]
    step = ws.query("SELECT step, rows FROM runs").to_pylist()
    assert step == [{"step": "probe", "rows": len(rows)}]
    sets = ws.cache_dir / "probes" / f"{run_id}_item_sets.parquet"
    assert sets.exists()


def test_fit_and_held_out_r2_are_both_reported(ws):
    table = run_probe(ws, "sem", "cf", mappers=("mlp:64x64",), shifts=("random",), seeds=1, device="cpu", max_epochs=30)
    r2 = {r["item_set"]: r["value"] for r in table.to_pylist() if r["metric"] == "r2" and r["mapper"] != "cca"}
    assert set(r2) == {"fit", "held_out"} and all(np.isfinite(v) for v in r2.values())


def test_probe_summary_sql_gives_mean_and_std_over_seeds(ws):
    table = run_probe(ws, "sem", "cf", mappers=("linear",), shifts=("random",), seeds=3, device="cpu")
    values = [r["value"] for r in table.to_pylist() if r["metric"] == "r2" and r["item_set"] == "held_out"]
    summary = probe_summary(ws).to_pylist()
    row = next(r for r in summary if r["metric"] == "r2" and r["item_set"] == "held_out" and r["mapper"] == "linear")
    assert row["n_seeds"] == 3
    assert row["mean"] == pytest.approx(np.mean(values))
    assert row["std"] == pytest.approx(np.std(values, ddof=1))
    assert summary == sorted(
        summary, key=lambda r: (r["run_id"], r["mapper"] != "cca", r["mapper"], r["shift"], r["item_set"], r["metric"])
    )


def test_probe_skips_inductive_recall_without_target_user_vectors(tmp_path):
    ws = make_probe_workspace(tmp_path, with_users=False)
    table = run_probe(ws, "sem", "cf", mappers=("linear",), shifts=("random",), seeds=1, device="cpu")
    metrics = {r["metric"] for r in table.to_pylist()}
    assert "r2" in metrics and "recall_true" not in metrics


def test_unknown_view_is_a_clear_error(ws):
    with pytest.raises(WorkspaceError, match=r"unknown view 'cff' — did you mean 'cf'\?"):
        run_probe(ws, "sem", "cff", mappers=("linear",), shifts=("random",), seeds=1)


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("seeds", 0, "--seeds must be at least 1, not 0"),
        ("k", 0, "--k must be at least 1, not 0"),
        ("cold_n", -1, "--cold-n must be at least 0, not -1"),
        ("max_epochs", 0, "--max-epochs must be at least 1, not 0"),
    ],
)
def test_the_library_checks_the_bounds_before_any_fit(ws, keyword, value, message):
    """The bounds are the library's (the CLI, a notebook and the experiment file give the same line)."""
    before = ws.parts("probes")
    with pytest.raises(ConfigError, match=message):
        run_probe(ws, "sem", "cf", mappers=("linear",), shifts=("random",), **{"seeds": 1, keyword: value})
    assert ws.parts("probes") == before


def test_cli_probe_prints_summary_csv(ws, capsys):
    main(
        [
            "probe",
            "-w",
            str(ws.root),
            "--source",
            "sem",
            "--target",
            "cf",
            "--mapper",
            "linear,mlp:8",
            "--shift",
            "random",
            "--seeds",
            "2",
            "--max-epochs",
            "5",
            "--device",
            "cpu",
            "--format",
            "json",
        ]
    )
    rows = json.loads(capsys.readouterr().out)
    assert {"mapper", "shift", "item_set", "metric", "n_seeds", "mean", "std"} <= set(rows[0])
    assert {r["mapper"] for r in rows} == {"cca", "linear", "mlp:8"}


def test_cli_probe_markdown_has_one_row_per_mapper_shift_item_set(ws, capsys):
    main(
        [
            "probe",
            "-w",
            str(ws.root),
            "--source",
            "sem",
            "--target",
            "cf",
            "--mapper",
            "linear",
            "--shift",
            "random,popularity",
            "--seeds",
            "2",
            "--format",
            "markdown",
        ]
    )
    out = capsys.readouterr().out
    assert "| linear | popularity | held_out |" in out and "±" in out
    assert "n_shared_components" in out


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--mapper", "mlp9"], 2, "Error: Invalid value for '--mapper': unknown mapper 'mlp9' — did you mean"),
        (["--shift", "popularty"], 2, "Error: Invalid value for '--shift': 'popularty' is not one of random,"),
        (["--target", "lightgcn"], 1, "Error: unknown view 'lightgcn'"),
        (["--protocol", "papr"], 2, "Error: Invalid value for '--protocol': 'papr' is not one of"),
        (["--seeds", "ten"], 2, "Error: Invalid value for '--seeds': 'ten' is not an integer"),
        (["--seeds", "0"], 1, "Error: --seeds must be at least 1, not 0"),
        (["--k", "0"], 1, "Error: --k must be at least 1, not 0"),
        (["--cold-n", "-1"], 1, "Error: --cold-n must be at least 0, not -1"),
        (["--max-epochs", "0"], 1, "Error: --max-epochs must be at least 1, not 0"),
    ],
)
def test_cli_probe_errors_are_one_line(ws, capsys, args, code, expected):
    """A bad view is the library's one-line error; a typo in a choice is the parser's usage error."""
    base = {"--source": "sem", "--target": "cf"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = (
        ["probe", "-w", str(ws.root)] + [x for kv in base.items() for x in kv]
        if "--mapper" in base
        else ["probe", "-w", str(ws.root), "--mapper", "linear"] + [x for kv in base.items() for x in kv]
    )
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    if code == 1:
        assert err.startswith(expected) and err.count("\n") == 1
    else:
        assert err.startswith("Usage:") and err.strip().splitlines()[-1].startswith(expected)


def test_probe_summary_runs_through_the_diagnose_runner(ws):
    runner = pytest.importorskip("complement.diagnostics.runner")
    run_probe(ws, "sem", "cf", mappers=("linear",), shifts=("random",), seeds=2, device="cpu")
    rows = runner.diagnose(ws, "probe_summary").to_pylist()
    assert rows == probe_summary(ws).to_pylist()


def test_paper_protocol_trains_fixed_epochs_on_the_random_shift_and_records_itself(ws):
    table = run_probe(
        ws,
        "sem",
        "cf",
        protocol="paper",
        mappers=("linear", "mlp:16"),
        seeds=1,
        device="cpu",
        max_epochs=6,
        n_rec_users=15,
    )
    rows = table.to_pylist()
    assert {r["shift"] for r in rows if r["mapper"] != "cca"} == {"random"}
    epochs = {
        (r["metric"], r["value"])
        for r in rows
        if r["mapper"] == "mlp:16" and r["metric"] in ("best_epoch", "epochs_trained")
    }
    assert epochs == {("best_epoch", 6.0), ("epochs_trained", 6.0)}
    for mapper in ("linear", "mlp:16"):
        sets = {r["item_set"] for r in rows if r["mapper"] == mapper and r["metric"] == "rec_jaccard"}
        assert sets == {"fit", "held_out", "all"}
        values = [r["value"] for r in rows if r["mapper"] == mapper and r["metric"] == "rec_jaccard"]
        assert all(0.0 <= v <= 1.0 for v in values)
    run = ws.query("SELECT params FROM runs WHERE step = 'probe'").to_pylist()[-1]
    params = json.loads(run["params"])
    assert (params["protocol"], params["batch_size"], params["early_stopping"], params["max_epochs"]) == (
        "paper",
        1024,
        False,
        6,
    )


def test_every_item_set_gets_the_dot_norm_matched_and_cosine_recall_drops(ws):
    rows = run_probe(ws, "sem", "cf", mappers=("linear",), shifts=("random",), seeds=1, device="cpu").to_pylist()
    for item_set in ("fit", "held_out"):
        metrics = {r["metric"]: r["value"] for r in rows if r["mapper"] == "linear" and r["item_set"] == item_set}
        for name in ("recall_drop", "recall_drop_normmatched", "recall_drop_cos"):
            assert name in metrics
        assert metrics["recall_drop_normmatched"] == pytest.approx(
            (metrics["recall_true"] - metrics["recall_mapped_normmatched"]) / metrics["recall_true"]
        )
        assert metrics["recall_drop_cos"] == pytest.approx(
            (metrics["recall_true_cos"] - metrics["recall_mapped_cos"]) / metrics["recall_true_cos"]
        )


def test_experiment_probe_protocol_is_validated(tmp_path, capsys):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(
        "[dataset]\nkind = 'synthetic'\n[[view]]\nname = 'a'\nmodel = 'pop'\n"
        "[[probe]]\nsource = 'a'\ntarget = 'a'\nprotocol = 'papr'\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["run", str(experiment), "-w", str(tmp_path / "ws"), "--dry-run"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "probe[0].protocol: unknown protocol 'papr'" in err


def test_experiment_probe_step_passes_the_protocol_and_epochs_to_the_probe(ws):
    from complement.experiment.execute import STEP_RUNNERS
    from complement.experiment.plan import Step

    settings = {
        "source": "sem",
        "target": "cf",
        "protocol": "paper",
        "mappers": ["linear", "mlp:8"],
        "seeds": 1,
        "max_epochs": 3,
        "device": "cpu",
    }
    STEP_RUNNERS["probe"](ws, Step("probe:0", "probe", settings, ["ingest"]), {})
    params = json.loads(ws.query("SELECT params FROM runs WHERE step = 'probe'").to_pylist()[-1]["params"])
    assert (params["protocol"], params["shifts"], params["max_epochs"], params["early_stopping"]) == (
        "paper",
        ["random"],
        3,
        False,
    )


def test_measures_shared_across_mappers_equal_fresh_measures_and_compute_the_truth_once(ws, monkeypatch):
    """run_probe keeps one memo per (shift, seed): the true vectors' neighbours, recalls and top-k lists are
    computed for the first mapper and reused by the next; every value equals a measurement without a memo."""
    from complement.embed import validation
    from complement.probes import metrics
    from complement.probes.run import load_probe_data, measure_item_sets, rec_users
    from complement.probes.shifts import split_items

    data = load_probe_data(ws, "sem", "cf")
    fit_items, held_items = split_items("random", len(data.item_ids), 0)
    users = rec_users(data, 25, 0)
    rng = np.random.default_rng(5)
    preds = [data.target + rng.normal(scale=s, size=data.target.shape).astype(np.float32) for s in (0.1, 1.0, 3.0)]
    fresh = [measure_item_sets(p, data, fit_items, held_items, 5, "cpu", users) for p in preds]

    calls = {"recall": 0, "knn": 0, "topk": 0}
    for name, module, attr in (
        ("recall", validation, "recall_at_k"),
        ("knn", metrics, "_cosine_knn"),
        ("topk", metrics, "_topk"),
    ):
        original = getattr(module, attr)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, attr, counted)
    memo: dict = {}
    shared = [measure_item_sets(p, data, fit_items, held_items, 5, "cpu", users, memo) for p in preds]
    assert shared == fresh
    # per mapper: 3 mapped recalls, 1 mapped k-NN and 1 mapped top-k list per item set, plus the top-k
    # list of the all-items Rec Jaccard; once in all: 2 true recalls and 1 true k-NN per item set, 1 true list
    assert calls == {"recall": 3 * 2 * 3 + 2 * 2, "knn": 3 * 2 + 2, "topk": 3 * 3 + 1}
