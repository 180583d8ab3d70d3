"""`complement run` into a workspace that has run before: the workspace's copy of the experiment is what was
run last, the stored results stay current whichever step re-runs, and a view name that holds another kind of
view is refused before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from badinput import snapshot

from complement import Workspace
from complement.cli.app import main
from complement.errors import ComplementError
from complement.experiment import execute, load, run_experiment

#: two quick views, a fusion and one pair: a run takes a few seconds
TINY = """
[dataset]
kind = "synthetic"
users = 60
items = 40
shared = 4
semantic_private = 2
collab_private = 2
interactions_per_user = 8
seed = 5

[[view]]
name = "pop"
model = "pop"
k = 20

[[view]]
name = "rand"
model = "random"
k = 20

[[fusion]]
name = "mix"
views = ["pop", "rand"]
method = "rrf"
k = 20

[diagnostics]
names = ["metrics", "overlap"]
k = [5]
pairs = [["pop", "rand"]]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def plan(capsys, *args: str) -> dict[str, tuple[str, str]]:
    """``complement run ARGS --dry-run``: step -> (action, reason)."""
    capsys.readouterr()
    main(["run", *args, "--dry-run", "-f", "csv"])
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    return {row[0]: (row[1], row[2]) for row in rows}


def refused(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.count("\n") == 1 and err.startswith("Error: "), err
    return err


# ---- the workspace's copy of the experiment ------------------------------------------------------------------
def test_the_workspace_keeps_the_experiment_it_ran_last_not_the_first(tmp_path, capsys):
    # the copy was written only when the workspace had none: after another file (or an edited one) the report
    # showed the first file's pair and k, and `complement run -w WS` planned to go back to the first settings
    first = write(tmp_path / "first.toml", TINY)
    other = write(
        tmp_path / "other.toml", TINY.replace("k = [5]", "k = [5, 10]").replace('["pop", "rand"]]', '["rand", "pop"]]')
    )
    ws = tmp_path / "ws"
    main(["run", str(first), "-w", str(ws)])
    assert load(ws / "complement.toml") == load(first)
    main(["run", str(other), "-w", str(ws)])
    assert load(ws / "complement.toml") == load(other)
    assert Workspace(ws).config["diagnostics"]["pairs"] == [["rand", "pop"]]
    assert {action for action, _ in plan(capsys, "-w", str(ws)).values()} == {"skip"}

    write(first, TINY.replace("k = [5]", "k = [10]"))  # the first file, edited
    main(["run", str(first), "-w", str(ws)])
    assert load(ws / "complement.toml") == load(first)
    assert {action for action, _ in plan(capsys, "-w", str(ws)).values()} == {"skip"}
    assert not (ws / "complement.toml.bak").exists()  # each copy replaced was one `complement run` wrote


def test_a_hand_written_workspace_experiment_stays_as_written_until_another_runs_then_is_kept_aside(tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    mine = write(ws / "complement.toml", "# my experiment, my notes\n" + TINY)
    written = mine.read_bytes()
    main(["run", "-w", str(ws)])  # the workspace's own file, run as it is: left alone, comments and all
    assert mine.read_bytes() == written
    main(["run", "-w", str(ws), "--set", "diagnostics.k=[5, 10]"])  # what ran is not what the file says
    assert load(mine)["diagnostics"]["k"] == [5, 10]
    assert (ws / "complement.toml.bak").read_bytes() == written
    assert {action for action, _ in plan(capsys, "-w", str(ws)).values()} == {"skip"}


def test_a_run_that_fails_half_way_keeps_the_new_experiment_so_that_run_alone_resumes_it(tmp_path, monkeypatch):
    first = write(tmp_path / "first.toml", TINY)
    ws = Workspace(tmp_path / "ws")
    run_experiment(ws, load(first))
    edited = write(tmp_path / "first.toml", TINY.replace('method = "rrf"', 'method = "rrf"\nrrf_k = 30'))

    def fails(ws, step, config):
        raise ComplementError("the fusion failed")

    monkeypatch.setitem(execute.STEP_RUNNERS, "fuse", fails)
    with pytest.raises(ComplementError):
        run_experiment(ws, load(edited))
    assert load(ws.config_path) == load(edited)
    monkeypatch.undo()
    statuses = run_experiment(ws, load(ws.config_path))  # `complement run -w WS`: the edited experiment
    assert [s.step.id for s in statuses if s.action == "run"] == ["fusion:mix", "diagnostics"]
    assert execute.results_are_current(ws)


# ---- results current after any step re-runs -----------------------------------------------------------------
DATA = (
    'kind = "synthetic"\nusers = 60\nitems = 40\nshared = 4\nsemantic_private = 2\ncollab_private = 2\n'
    "interactions_per_user = 8\nseed = 5\n"
)
#: a step of every kind: ingest, embed, import (with user vectors: lists too), train, fuse, neighbors,
#: probe (of the embedded and the trained view), diagnostics
EVERY_KIND = f"""
[dataset]
{DATA}
[split]
seed = 5

[[view]]
name = "text"
embed = "default"

[[view]]
name = "ext"
from = "VECTORS/items.parquet"
user_from = "VECTORS/users.parquet"
k = 20

[[view]]
name = "mf"
model = "mf"
epochs = 2
min_epochs = 1
k = 20

[[fusion]]
name = "mix"
views = ["mf", "ext"]
method = "rrf"
k = 20

[diagnostics]
names = ["metrics", "overlap", "item_agreement"]
k = [5, 10]
pairs = [["mf", "ext"]]
neighbors_k = 10

[[probe]]
source = "text"
target = "mf"
mappers = ["linear"]
shifts = ["random"]
seeds = 1
"""


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> Path:
    """A folder with the experiment (and the vectors it imports) and a workspace it ran into."""
    from complement.data.synth import synthesize

    folder = tmp_path_factory.mktemp("every_kind")
    synthesize(
        folder / "ids",
        users=60,
        items=40,
        shared=4,
        semantic_private=2,
        collab_private=2,
        interactions_per_user=8,
        seed=5,
    )
    known = Workspace(folder / "ids")
    rng = np.random.default_rng(0)
    for name, ids in (("items", known.item_ids()), ("users", known.user_ids())):
        vectors = rng.normal(size=(len(ids), 4)).tolist()
        pq.write_table(pa.table({"id": [str(i) for i in ids], "vector": vectors}), folder / f"{name}.parquet")
    # the vectors by their absolute paths: a copy of the folder (each test's) imports the same files
    text = EVERY_KIND.replace("VECTORS", str(folder))
    run_experiment(Workspace(folder / "ws"), load(write(folder / "exp.toml", text)))
    return folder


@pytest.mark.parametrize(
    ("changes", "reruns"),
    [
        (["split.seed=6"], "ingest"),
        (["view.text.batch_size=16"], "view:text"),
        (["view.ext.k=15"], "view:ext"),
        (["view.mf.epochs=3"], "view:mf"),
        (["fusion.mix.k=15"], "fusion:mix"),
        (["diagnostics.neighbors_k=12"], "neighbors:mf"),
        (["diagnostics.k=[5]"], "diagnostics"),
        (["probe.0.seeds=2"], "probe:0"),
        (["probe.0.seeds=2", "diagnostics.k=[5]"], "probe:0"),  # the user's: the diagnostics ran, then the probe
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(value),
)
def test_a_run_that_changes_one_step_leaves_the_stored_results_current(every_kind, tmp_path, changes, reruns):
    # the diagnostics ran before the probes, whose fingerprints their results record: a run that re-ran a probe
    # left results_are_current() False, though the plan said everything was up to date
    folder = tmp_path / "copy"
    shutil.copytree(every_kind, folder)
    ws = Workspace(folder / "ws")
    assert execute.results_are_current(ws)
    statuses = run_experiment(ws, load(folder / "exp.toml", changes))
    ran = [s.step.id for s in statuses if s.action == "run"]
    assert reruns in ran and ran[-1] == "diagnostics", ran
    assert "view:ext" not in ran or reruns in ("ingest", "view:ext")  # (the copy imports the same files)
    assert execute.results_are_current(ws)
    again = run_experiment(ws, load(folder / "exp.toml", changes), dry_run=True)
    assert {s.action for s in again} == {"skip"}


def test_the_diagnostics_come_after_every_step_whose_tables_their_results_record(every_kind):
    from complement.experiment.plan import build_plan

    steps = build_plan(load(every_kind / "exp.toml"))
    assert steps[-1].id == "diagnostics"
    assert set(steps[-1].deps) == {s.id for s in steps[:-1]}


def test_results_older_than_a_table_they_record_are_computed_again(every_kind, tmp_path):
    # e.g. a workspace an earlier version ran (the probe after the diagnostics): the plan said "up to date"
    folder = tmp_path / "copy"
    shutil.copytree(every_kind, folder)
    ws = Workspace(folder / "ws")
    lineage = folder / "ws" / "results" / execute.RESULTS_LINEAGE
    recorded = json.loads(lineage.read_text())
    probe = next(key for key in recorded if key.startswith("probes/"))
    lineage.write_text(json.dumps({**recorded, probe: "an older probe run"}))
    statuses = {s.step.id: s for s in run_experiment(ws, load(folder / "exp.toml"), dry_run=True)}
    assert statuses["diagnostics"].action == "run"
    assert statuses["diagnostics"].reason == "an input changed after the results were computed"
    assert {s.action for step, s in statuses.items() if step != "diagnostics"} == {"skip"}
    run_experiment(ws, load(folder / "exp.toml"))
    assert execute.results_are_current(ws)


# ---- a view name holding another kind of view ----------------------------------------------------------------
RENAMED = (
    TINY.replace('name = "mix"', 'name = "mix2"')  # the fusion moves away, a trained view takes its name
    .replace('name = "rand"', 'name = "mix"')
    .replace('["pop", "rand"]', '["pop", "mix"]')
)


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
def test_a_view_renamed_onto_a_view_of_another_kind_is_refused_before_anything_is_written(tmp_path, capsys, dry_run):
    # the dry run planned `view:mix,run,new`; the real run trained the other views, then failed with the step's
    # `--view NAME` advice (an option an experiment file has not)
    ws = tmp_path / "ws"
    main(["run", str(write(tmp_path / "exp.toml", TINY)), "-w", str(ws)])
    before = snapshot(ws)
    renamed = write(tmp_path / "renamed.toml", RENAMED)
    err = refused(capsys, str(renamed), "-w", str(ws), *(["--dry-run"] if dry_run else []))
    assert err.startswith("Error: renamed.toml: [[view]] 'mix' writes a trained model to view 'mix', but the "), err
    assert "holds a fusion (made by `complement fuse" in err
    assert (
        f"rename the [[view]] in renamed.toml, or remove the workspace's view first with `complement drop mix -w {ws}`"
        in err
    )
    assert "--view NAME" not in err
    assert snapshot(ws) == before


def test_a_fusion_seeded_onto_a_trained_view_is_named_with_its_seed(tmp_path, capsys):
    ws = tmp_path / "ws"
    main(["run", str(write(tmp_path / "exp.toml", TINY)), "-w", str(ws), "--seeds", "1"])  # pop-s1, rand-s1, mix-s1
    before = snapshot(ws)
    swapped = TINY.split("[[view]]")[0] + (  # the random view renamed, the fusion named as it was
        '[[view]]\nname = "pop"\nmodel = "pop"\nk = 20\n[[view]]\nname = "other"\nmodel = "random"\nk = 20\n'
        '[[fusion]]\nname = "rand"\nviews = ["pop", "other"]\nmethod = "rrf"\nk = 20\n[diagnostics]\nk = [5]\n'
    )
    err = refused(capsys, str(write(tmp_path / "swapped.toml", swapped)), "-w", str(ws), "--seeds", "1", "--dry-run")
    assert (
        "[[fusion]] 'rand' writes a fusion to view 'rand-s1' (for seed 1), but the workspace's view 'rand-s1' " in err
    )
    assert "holds a trained model" in err and f"`complement drop rand-s1 -w {ws}`" in err
    assert snapshot(ws) == before


def test_views_the_experiment_no_longer_declares_are_named(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    ws = tmp_path / "ws"
    main(["run", str(write(tmp_path / "exp.toml", TINY)), "-w", str(ws)])
    assert "does not declare" not in capsys.readouterr().err
    renamed = TINY.replace('"rand"', '"uniform"')
    for extra in (["--dry-run"], []):
        main(["run", str(write(tmp_path / "renamed.toml", renamed)), "-w", str(ws), *extra])
        err = capsys.readouterr().err
        assert "note: the workspace also holds views renamed.toml does not declare: rand; they stay" in err, err
        assert f"`complement drop NAME -w {ws}`" in err
    assert "truth_" not in err  # a synthetic workspace's planted truth is not the experiment's to declare


def test_an_experiment_without_lists_is_up_to_date_after_its_run(tmp_path, capsys):
    """`complement init` then `complement run -w WS`: the experiment has no view with lists, so the diagnostics
    write nothing; they ran again on every run ("output missing") where they are now up to date."""
    rows = "".join(f"u{u},i{(u + j) % 12}\n" for u in range(30) for j in range(6))
    (tmp_path / "events.csv").write_text("user_id,item_id\n" + rows, encoding="utf-8")
    ws = str(tmp_path / "ws")
    main(["init", ws, "--dataset", "generic", "--path", str(tmp_path / "events.csv")])
    main(["run", "-w", ws])
    capsys.readouterr()
    main(["run", "-w", ws, "--dry-run", "-f", "csv"])
    assert [line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]] == ["up to date"] * 2
