"""The example experiments validate and plan, and the demo runs the README's main job."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from complement.demo import experiment_path
from complement.experiment import load
from complement.experiment.plan import build_plan

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_validates_and_plans_every_stage(path, tmp_path):
    config = load(path, [f"dataset.path={tmp_path}"] if "path" in load_raw(path)["dataset"] else [])
    kinds = {step.kind for step in build_plan(config)}
    assert {"ingest", "embed", "train", "fuse", "diagnostics", "probe"} <= kinds


BENCHMARK_EXPERIMENTS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*/*.toml"))


@pytest.mark.parametrize(
    "path", BENCHMARK_EXPERIMENTS, ids=[f"{p.parent.name}/{p.stem}" for p in BENCHMARK_EXPERIMENTS]
)
def test_benchmark_experiment_validates_and_plans(path, tmp_path):
    # the experiment files that benchmarks and docs/fusion.md run (benchmarks/cpu, benchmarks/gpu); the files an
    # imported view reads (made by the benchmark's script) stand in as empty files: loading checks they are there
    overrides = [f"dataset.path={tmp_path}"]
    for view in load_raw(path).get("view", []):
        for key in ("from", "ids", "user_from", "user_ids") if "from" in view else ():
            if key in view:
                (stand_in := tmp_path / f"{view['name']}-{key}").touch()
                overrides.append(f'view.{view["name"]}.{key}="{stand_in}"')
    config = load(path, overrides)
    kinds = {step.kind for step in build_plan(config)}
    assert {"ingest", "train", "fuse", "diagnostics"} <= kinds


def load_raw(path: Path) -> dict:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_demo_runs_the_synthetic_example():
    assert experiment_path().read_text(encoding="utf-8") == (
        Path(__file__).resolve().parents[1] / "examples" / "synthetic.toml"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", ["dataset.user=2000", "view.lightgcn.epoch=5", "view.lightgcn.epochs=x"])
def test_demo_with_a_bad_setting_writes_nothing(tmp_path, capsys, setting):
    # the override is checked before the demo's folder is made (it used to be left behind, empty)
    from complement.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(["demo", str(tmp_path / "demo"), "--set", setting])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.startswith("Error: --set ") and err.count("\n") == 1
    assert "synthetic.toml" not in err  # the package's file, not one the user wrote
    assert not (tmp_path / "demo").exists()


def test_demo_prints_headline_tables(tmp_path, capsys, monkeypatch):
    """The main job end to end (real MiniLM), on a smaller synthetic set to stay fast."""
    from complement.cli.app import main

    main(
        [
            "demo",
            str(tmp_path / "demo"),
            "--set",
            "dataset.users=200",
            "--set",
            "dataset.items=100",
            "--set",
            "view.sem.epochs=4",
            "--set",
            "view.lightgcn.epochs=4",
            "--set",
            "probe.0.seeds=1",
            "-f",
            "csv",
        ]
    )
    out = capsys.readouterr().out
    listing = list(csv.DictReader(io.StringIO(out)))  # piped output is one valid CSV: the tables' files
    assert next(row.keys() for row in listing) == {"table": 0, "title": 0, "file": 0}.keys()
    titles = " ".join(row["title"] for row in listing)
    for title in ("Accuracy at K=20", "top-20 lists", "Who finds the hits", "Oracle fusion bounds", "Alignment probes"):
        assert title in titles
    for row in listing:
        table = list(csv.DictReader(open(row["file"], encoding="utf-8")))
        assert table and Path(row["file"]).parent == tmp_path / "demo" / "demo-results"
        if "Alignment probes" in row["title"]:  # the rows name the views mapped, as set in the experiment
            assert {(r["source"], r["target"]) for r in table} == {("text", "lightgcn")}
        if row["table"] == "fusion_gap":  # each fusion says how it was made (a tuned w of 1 is lightgcn alone)
            settings = {r["view"]: r["setting"] for r in table}
            assert settings["concat"] == "concat" and settings["rrf"] == "rrf, k = 60"
            assert re.fullmatch(
                r"score, w = (0(\.\d)?|1) tuned on validation( \(= (lightgcn|sem) alone\))?", settings["score"]
            )
    assert (tmp_path / "demo" / "report.html").exists()
