"""complement run: the experiment file, the plan, incremental re-runs and resuming."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from complement import Workspace
from complement.cli.app import main
from complement.errors import ComplementError, ConfigError
from complement.experiment import execute, load, run_experiment

SMALL = """
[dataset]
kind = "synthetic"
users = 150
items = 80
shared = 4
semantic_private = 2
collab_private = 2
interactions_per_user = 12
seed = 7

[split]
method = "random"
seed = 7

[[view]]
name = "lightgcn"
model = "lightgcn"
epochs = 4
min_epochs = 1
eval_every = 2
k = 50

[[view]]
name = "pop"
model = "pop"
k = 50

[[fusion]]
name = "mix"
views = ["lightgcn", "pop"]
method = "rrf"
k = 50

[diagnostics]
names = ["metrics", "overlap", "unique_hits", "oracle", "item_agreement", "fusion_gap"]
k = [5, 10]
pairs = [["lightgcn", "pop"]]

[[probe]]
source = "truth_semantic"
target = "truth_collab"
mappers = ["linear"]
shifts = ["random"]
seeds = 1
"""


def write_experiment(tmp_path: Path, text: str = SMALL) -> Path:
    path = tmp_path / "experiment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str) -> None:
    main(list(args))


def test_run_builds_every_table_then_a_second_run_does_nothing(tmp_path, capsys, monkeypatch):
    experiment = write_experiment(tmp_path)
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))
    ws = Workspace(ws_dir)
    for table in ("items", "users", "interactions", "embeddings", "topk", "neighbors", "probes", "runs"):
        assert ws.has_table(table), table
    assert sorted(ws.parts("topk")) == ["lightgcn", "mix", "pop"]
    metrics = pq.read_table(ws_dir / "results" / "metrics.parquet").to_pylist()
    assert {(r["k"], r["view"]) for r in metrics} == {(k, v) for k in (5, 10) for v in ("lightgcn", "mix", "pop")}
    unique = pq.read_table(ws_dir / "results" / "unique_hits.parquet").to_pylist()
    for row in unique:
        assert row["share_common"] + row["share_a_only"] + row["share_b_only"] == pytest.approx(1.0)
    capsys.readouterr()
    before = ws.query("SELECT count(*) AS n FROM runs").column(0)[0].as_py()
    monkeypatch.delenv("COMPLEMENT_QUIET")
    run_cli("run", "-w", str(ws_dir))  # the workspace kept the experiment: no file argument needed
    assert "nothing to do" in capsys.readouterr().err
    assert ws.query("SELECT count(*) AS n FROM runs").column(0)[0].as_py() == before


def test_changing_a_setting_reruns_that_step_and_what_depends_on_it(tmp_path, capsys):
    experiment = write_experiment(tmp_path)
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))
    capsys.readouterr()
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "--set", "view.lightgcn.epochs=3", "-f", "csv")
    plan = {line.split(",")[0]: line.split(",")[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert plan["ingest"] == "skip" and plan["view:pop"] == "skip"
    assert plan["view:lightgcn"] == plan["fusion:mix"] == plan["diagnostics"] == "run"
    assert plan["probe:0"] == "skip"


def test_interrupted_run_resumes_and_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    experiment = write_experiment(tmp_path)
    config = load(experiment)
    whole = Workspace(tmp_path / "whole")
    run_experiment(whole, config)

    broken = Workspace(tmp_path / "broken")
    original = execute.STEP_RUNNERS["diagnostics"]

    def interrupted(ws, step, cfg):
        raise KeyboardInterrupt

    monkeypatch.setitem(execute.STEP_RUNNERS, "diagnostics", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(broken, config)
    assert not (broken.root / "results").exists()
    assert not list(broken.tables_dir.rglob("*.tmp"))
    monkeypatch.setitem(execute.STEP_RUNNERS, "diagnostics", original)
    statuses = run_experiment(broken, config)
    assert [s.step.id for s in statuses if s.action == "run"] == ["diagnostics"]  # the probe ran before it
    for name in ("metrics", "oracle", "overlap"):
        got = pq.read_table(broken.root / "results" / f"{name}.parquet").to_pylist()
        want = pq.read_table(whole.root / "results" / f"{name}.parquet").to_pylist()
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert g.keys() == w.keys()
            for key, value in w.items():
                if isinstance(value, float):
                    assert g[key] == pytest.approx(value, rel=1e-9, abs=1e-12)
                else:
                    assert g[key] == value


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("[dataset]\nkind = 'synthetic'\n[oops]\n", "unknown key 'oops'"),
        ("[dataset]\nkind = 'synthetic'\n[[view]]\nname = 'x'\nmodel = 'lightgcm'\n", "did you mean 'lightgcn'"),
        ("[dataset]\nkind = 'synthetic'\n[diagnostics]\nk = 20\n", "[diagnostics].k must be a list"),
        ("[dataset]\nkind = 'synthetic'\n[diagnostics]\npairs = [['a', 'b']]\n", "view 'a' is not declared"),
        ("[dataset]\nkind = 'synthetic'\n[[view]]\nname = 'x'\nmodel = 'pop'\nepoch = 3\n", "unknown key 'epoch'"),
        ("[dataset]\nkind = 'synthetic'\n[[view]]\nname = 'x'\n", "give exactly one of embed, model, from"),
        ("[dataset]\nkind = 'synthetic'\n[split]\nmethod = 'loox'\n", "[split].method: unknown split method 'loox'"),
        (
            "[dataset]\nkind = 'synthetic'\n[[probe]]\nsource = 'truth_semantic'\ntarget = 'truth_collab'\n"
            "shifts = ['randum']\n",
            "probe[0].shifts: unknown shift 'randum'",
        ),
        (
            "[dataset]\nkind = 'synthetic'\n[[view]]\nname = 't'\nembed = 'default'\nprecision = 'double'\n",
            "view 't'.precision: unknown precision 'double' (choose from: auto, float16, float32, float64)",
        ),
        (  # item_agreement failed on the short neighbour lists after every view was trained
            "[dataset]\nkind = 'synthetic'\n[[view]]\nname = 'a'\nmodel = 'pop'\n[[view]]\nname = 'b'\n"
            "model = 'random'\n[diagnostics]\nk = [5, 10]\npairs = [['a', 'b']]\nneighbors_k = 5\n",
            "[diagnostics].neighbors_k = 5 is shorter than the longest [diagnostics].k (10), which item_agreement",
        ),
        (  # a fusion run with seed 1 writes 'mix-s1', which an embedded view declares too: the plan named no file
            "[dataset]\nkind = 'synthetic'\n[run]\nseeds = [1]\n[[view]]\nname = 'mix-s1'\nembed = 'default'\n"
            "[[view]]\nname = 'a'\nmodel = 'pop'\n[[view]]\nname = 'b'\nmodel = 'random'\n"
            "[[fusion]]\nname = 'mix'\nviews = ['a', 'b']\nmethod = 'rrf'\n",
            "experiment.toml: two steps of the experiment would write 'mix-s1'",
        ),
    ],
)
def test_malformed_experiment_gets_one_line_naming_the_key(tmp_path, capsys, change, message):
    experiment = write_experiment(tmp_path, change)
    with pytest.raises(SystemExit) as exit_info:
        run_cli("run", str(experiment), "-w", str(tmp_path / "ws"), "--dry-run")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Error: experiment.toml") and message in err
    assert not (tmp_path / "ws" / "tables").exists()


def test_set_override_reaches_a_named_view_and_rejects_bad_syntax(tmp_path):
    experiment = write_experiment(tmp_path)
    config = load(experiment, ["view.lightgcn.epochs=9", "split.seed=3"])
    assert next(v for v in config["view"] if v["name"] == "lightgcn")["epochs"] == 9
    assert config["split"]["seed"] == 3
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load(experiment, ["split.seed"])
    with pytest.raises(ConfigError, match=r"no entry named 'nope' \(entries: "):
        load(experiment, ["view.nope.epochs=1"])
    with pytest.raises(
        ConfigError, match=r"no entry named 'lightgcnn' — did you mean 'lightgcn'\? \(entries: .*lightgcn"
    ):
        load(experiment, ["view.lightgcnn.epochs=1"])


def test_seeds_repeat_stochastic_views_and_keep_every_seed(tmp_path):
    experiment = write_experiment(tmp_path)
    from complement.experiment.plan import build_plan

    config = load(experiment, ["run.seeds=[1, 2]"])
    ids = [s.id for s in build_plan(config)]
    assert {"view:lightgcn-s1", "view:lightgcn-s2", "fusion:mix-s1", "fusion:mix-s2"} <= set(ids)
    diagnostics = next(s for s in build_plan(config) if s.id == "diagnostics")
    assert [(p["view_a"], p["view_b"]) for p in diagnostics.settings["expanded_pairs"]] == [
        ("lightgcn-s1", "pop-s1"),
        ("lightgcn-s2", "pop-s2"),
    ]


def test_a_view_changed_outside_run_is_rebuilt_with_what_depends_on_it(tmp_path, capsys):
    experiment = write_experiment(tmp_path)
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))
    run_cli("train", "lightgcn", "-w", str(ws_dir), "--epochs", "1", "--min-epochs", "1", "--k", "50")
    capsys.readouterr()
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    plan = {line.split(",")[0]: line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]}
    assert plan["view:lightgcn"] == "output changed outside `complement run`"
    assert plan["fusion:mix"] == plan["diagnostics"] == "an input changed"
    assert plan["view:pop"] == "up to date"


def test_relative_vector_files_resolve_against_the_experiment_file(tmp_path, monkeypatch):
    """`from`/`ids` of an imported view, like dataset.path, are relative to the experiment file (not
    to where `complement run` is started); paths given with --set are relative to the current folder."""
    import numpy as np

    folder = tmp_path / "experiments"
    folder.mkdir()
    experiment = folder / "exp.toml"
    experiment.write_text(
        SMALL + '\n[[view]]\nname = "imported"\nfrom = "vectors/item.npy"\nids = "vectors/item.ids"\n', encoding="utf-8"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "vectors").mkdir()
    for path in (folder / "vectors" / "item.npy", folder / "vectors" / "item.ids", elsewhere / "mine.npy"):
        path.touch()  # loading checks that the files an import reads are there
    monkeypatch.chdir(elsewhere)
    view = next(v for v in load(experiment)["view"] if v["name"] == "imported")
    assert view["from"] == str(folder / "vectors" / "item.npy") and view["ids"] == str(folder / "vectors" / "item.ids")
    view = next(v for v in load(experiment, ["view.imported.from=mine.npy"])["view"] if v["name"] == "imported")
    assert view["from"] == str(elsewhere / "mine.npy")

    # and the run finds them: the synthetic items are i0..i79, vectors written next to the experiment
    ws = Workspace(tmp_path / "ws")
    run_experiment(ws, load(write_experiment(tmp_path)))  # the same data without the imported view
    ids = ws.item_ids()
    np.save(folder / "vectors" / "item.npy", np.eye(len(ids), 8, dtype=np.float32))
    (folder / "vectors" / "item.ids").write_text("\n".join(ids) + "\n", encoding="utf-8")
    run_experiment(ws, load(experiment))
    assert ws.read_vectors("imported", "item")[1].shape == (len(ids), 8)


TWO_LISTS = """
[dataset]
kind = "synthetic"
users = 80
items = 120
interactions_per_user = 8
seed = 3

[[view]]
name = "pop"
model = "pop"

[[view]]
name = "rand"
model = "random"

[diagnostics]
k = [5]
"""


def results_left_by_an_earlier_run(ws_dir: Path, name: str) -> Path:
    """The workspace's results folder holding a stale ``NAME.parquet``, as an earlier run could leave it."""
    results = ws_dir / execute.RESULTS_DIR
    results.mkdir(parents=True)
    (results / f"{name}.parquet").write_bytes(b"left by an earlier run")
    return results


def test_default_diagnostics_skip_multi_view_below_three_lists_and_drop_its_old_result(tmp_path, capsys, monkeypatch):
    # The default diagnostics include multi_view, which compares three or more lists: an experiment with two
    # views must still finish, without a multi_view result, rather than fail after training everything.
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")  # the skip is said on stderr
    ws_dir = tmp_path / "ws"
    results = results_left_by_an_earlier_run(ws_dir, "multi_view")
    run_cli("run", str(write_experiment(tmp_path, TWO_LISTS)), "-w", str(ws_dir))
    assert "multi_view skipped" in capsys.readouterr().err
    assert not (results / "multi_view.parquet").exists()
    assert (results / "metrics.parquet").exists() and (results / "coverage.parquet").exists()

    # a third list: multi_view runs and compares all three
    three = TWO_LISTS.replace(
        "[diagnostics]", '[[fusion]]\nname = "mix"\nviews = ["pop", "rand"]\nmethod = "rrf"\n\n[diagnostics]'
    )
    run_cli("run", str(write_experiment(tmp_path, three)), "-w", str(ws_dir))
    table = pq.read_table(results / "multi_view.parquet").to_pylist()
    assert {row["view_a"] for row in table if row["statistic"] == "recall"} == {"mix", "pop", "rand"}


@pytest.mark.parametrize(
    "text",
    [
        '[dataset]\nkind = "synthetic"\nusers = 80\nitems = 120\ninteractions_per_user = 8\nseed = 3\n',
        '[dataset]\nkind = "synthetic"\nusers = 80\nitems = 120\ninteractions_per_user = 8\nseed = 3\n'
        '[diagnostics]\nnames = ["metrics", "overlap"]\nk = [5]\n',
    ],
    ids=["default-diagnostics", "declared-diagnostics"],
)
def test_an_experiment_without_lists_skips_the_diagnostics_and_drops_old_results(tmp_path, capsys, monkeypatch, text):
    # Nothing declared writes top-K lists (here: the dataset alone; also an experiment that only embeds text):
    # the run finishes, says the diagnostics were skipped, and no earlier result passes as current.
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    ws_dir = tmp_path / "ws"
    results = results_left_by_an_earlier_run(ws_dir, "metrics")
    run_cli("run", str(write_experiment(tmp_path, text)), "-w", str(ws_dir))
    assert "diagnostics skipped: no view has top-K lists" in capsys.readouterr().err
    assert not (results / "metrics.parquet").exists()
    assert Workspace(ws_dir).parts("topk") == []


def test_an_imported_view_with_user_vectors_writes_lists_of_its_declared_k(tmp_path, capsys):
    # the import step scored its lists with topk's default (k = 100) whatever the [[view]] said: k was not
    # even a key it accepted, unlike a trained view's
    import numpy as np
    import pyarrow as pa

    from complement.data.synth import synthesize

    probe = tmp_path / "probe"
    synthesize(probe, users=30, items=25, interactions_per_user=6, seed=1)
    known = Workspace(probe)
    rng = np.random.default_rng(0)
    for name, ids in (("items", known.item_ids()), ("users", known.user_ids())):
        rows = rng.normal(size=(len(ids), 4)).tolist()
        pq.write_table(pa.table({"id": [str(i) for i in ids], "vector": rows}), tmp_path / f"{name}.parquet")
    experiment = write_experiment(
        tmp_path,
        "[dataset]\nkind = 'synthetic'\nusers = 30\nitems = 25\ninteractions_per_user = 6\nseed = 1\n"
        f"[[view]]\nname = 'ext'\nfrom = '{tmp_path / 'items.parquet'}'\nuser_from = '{tmp_path / 'users.parquet'}'\n"
        "k = 7\nexclude = 'train'\n"
        "[diagnostics]\nnames = ['metrics']\nk = [5]\n",
    )
    run_cli("run", str(experiment), "-w", str(tmp_path / "ws"))
    ws = Workspace(tmp_path / "ws")
    longest = ws.query("SELECT max(rank) AS m, count(DISTINCT user_id) AS u FROM topk WHERE view = 'ext'").to_pylist()
    assert longest == [{"m": 7, "u": 30}]
    with pytest.raises(ConfigError, match=r"view 'ext'\.k = 3 is shorter than the longest \[diagnostics\]\.k \(5\)"):
        load(experiment, ["view.ext.k=3"])
    items_only = experiment.read_text().replace(f"user_from = '{tmp_path / 'users.parquet'}'\n", "")
    with pytest.raises(ConfigError, match=r"view 'ext'\.k: only a view imported with user_from has top-K lists"):
        load(write_experiment(tmp_path, items_only))


def test_a_raised_result_revision_reruns_that_model_and_what_reads_it_and_nothing_else(tmp_path, capsys, monkeypatch):
    from complement.experiment import plan as plan_module

    experiment = write_experiment(tmp_path)
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))
    capsys.readouterr()
    # a code change that gives lightgcn other vectors for the same settings
    monkeypatch.setitem(plan_module.RESULT_REVISIONS, ("train", "lightgcn"), 1)
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    plan, reason = {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}
    assert plan["ingest"] == plan["view:pop"] == plan["probe:0"] == "skip"
    assert plan["view:lightgcn"] == plan["fusion:mix"] == plan["diagnostics"] == "run"
    assert reason["view:lightgcn"] == "code changed" and reason["fusion:mix"] == "an input changed"


def test_only_revised_steps_have_a_new_key(tmp_path):
    """The keys of steps without a revision are what they were before revisions existed (a workspace written
    then does not re-run them); aligned-contrastive and the learned fusions are revised (float64)."""
    from complement.experiment.plan import RESULT_REVISIONS, build_plan
    from complement.runs import config_hash

    assert RESULT_REVISIONS[("train", "aligned-contrastive")] >= 1
    assert RESULT_REVISIONS[("fuse", "ranker")] >= 1 and RESULT_REVISIONS[("fuse", "gate")] >= 1
    text = SMALL.replace('method = "rrf"', 'method = "ranker"')
    config = load(write_experiment(tmp_path, text), [])
    steps = {s.id: s for s in build_plan(config)}
    for step in steps.values():
        old_key = config_hash({"kind": step.kind, "settings": step.settings, "deps": [steps[d].key for d in step.deps]})
        revised = step.id == "fusion:mix"
        assert (step.key != old_key) == revised, step.id


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("view.pop.k=25", "view 'pop'.k = 25 is larger than the catalogue"),
        ("fusion.f.k=25", "fusion 'f'.k = 25 is larger than the catalogue"),
        ("probe.0.k=20", "probe[0].k = 20 is larger than the other items of the catalogue"),
    ],
)
def test_a_list_longer_than_the_catalogue_ingest_kept_is_named_as_the_file_s_key(tmp_path, capsys, setting, named):
    """Known only once ingest has read the data: the model's step said `use --k 20 or less`, a flag the run has
    not; the run checks the new catalogue before any step reads it, and names the key to change."""
    rows = [f"u{u},i{(u * 7 + j * 3) % 20}" for u in range(30) for j in range(8)]
    (tmp_path / "events.csv").write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    experiment = write_experiment(
        tmp_path,
        '[dataset]\nkind = "generic"\npath = "events.csv"\nuser_col = "user"\nitem_col = "item"\n'
        '[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n[[view]]\nname = "rnd"\nmodel = "random"\nk = 5\n'
        '[[fusion]]\nname = "f"\nviews = ["pop", "rnd"]\nmethod = "rrf"\nk = 5\n[diagnostics]\nk = [5]\n'
        '[[probe]]\nsource = "pop"\ntarget = "rnd"\nmappers = ["linear"]\nseeds = 1\n',
    )
    ws = tmp_path / "ws"
    with pytest.raises(SystemExit) as exit_info:
        run_cli("run", str(experiment), "-w", str(ws), "--set", setting)
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.count("\n") == 1, err
    assert err.startswith(f"Error: experiment.toml: {named} (the workspace's items table: 20 items); set it to "), err
    assert "--k" not in err
    assert Workspace(ws).parts("topk") == []  # refused before any view was made


def test_a_copy_of_the_same_data_stays_up_to_date_and_an_edit_does_not(tmp_path, capsys, monkeypatch):
    """Ingest records its files' contents: a copy of the same data (new modification times) keeps ingest and
    every step after it up to date, with a note; an edit of the same size, a longer file or another file re-runs
    them, named as a change of the files and not of the settings."""
    import os

    monkeypatch.setenv("COMPLEMENT_QUIET", "0")

    rows = [f"u{u},i{(u * 7 + j * 3) % 20}" for u in range(30) for j in range(8)]
    data = tmp_path / "events.csv"
    data.write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    experiment = write_experiment(
        tmp_path,
        '[dataset]\nkind = "generic"\npath = "events.csv"\nuser_col = "user"\nitem_col = "item"\n'
        '[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n[diagnostics]\nnames = ["metrics"]\nk = [5]\n',
    )
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))

    def reasons(*extra: str) -> dict[str, str]:
        capsys.readouterr()
        run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv", *extra)
        return {line.split(",")[0]: line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]}

    def touch(seconds: int) -> None:
        stat = data.stat()
        os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))

    assert set(reasons().values()) == {"up to date"}
    touch(5)  # the same bytes, another time: a copy
    capsys.readouterr()
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    out = capsys.readouterr()
    assert "same contents (SHA-256)" in out.err and ",run," not in out.out, out
    run_cli("run", str(experiment), "-w", str(ws_dir))
    assert "everything is up to date" in capsys.readouterr().err
    assert reasons("--set", "split.seed=3")["ingest"] == "settings changed"

    # an edit that keeps the size: the content is compared, not only sizes and times
    original = data.read_bytes()
    edited = original.replace(b"u0,i0", b"u0,i1", 1)
    assert len(edited) == len(original) and edited != original
    data.write_bytes(edited)
    touch(7)
    plan = reasons()
    assert plan["ingest"] == "the dataset files changed" and plan["view:pop"] == "an input changed", plan
    data.write_bytes(original + b"u99,i3\n")  # another size
    assert reasons()["ingest"] == "the dataset files changed"
    assert reasons("--set", "split.seed=3")["ingest"] == "settings changed"  # a setting too: named as a setting
    data.write_bytes(original)
    touch(11)
    assert set(reasons().values()) == {"up to date"}
    (tmp_path / "other.csv").write_bytes(original)
    assert reasons("--set", f"dataset.path={tmp_path / 'other.csv'}")["ingest"] == "settings changed"

    # a run stopped after ingest: the view's own settings are as recorded, its input was made again
    data.write_bytes(original + b"u99,i3\n")

    def fails(ws, step, config):
        raise ComplementError("stopped")

    monkeypatch.setitem(execute.STEP_RUNNERS, "train", fails)
    with pytest.raises(SystemExit):
        run_cli("run", str(experiment), "-w", str(ws_dir))
    monkeypatch.undo()
    plan = reasons()
    assert plan["ingest"] == "up to date" and plan["view:pop"] == "an input changed", plan
    touch(13)  # the copy check now compares with what that run ingested
    assert reasons()["ingest"] == "up to date"


def test_a_folder_dataset_copied_stays_up_to_date_and_an_edited_file_in_it_does_not(tmp_path, capsys, monkeypatch):
    """A dataset folder (MovieLens) copied file by file keeps ingest up to date; one file edited re-runs it."""
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    import shutil
    import time

    source = tmp_path / "ml"
    source.mkdir()
    pairs = [(u, j) for u in range(1, 21) for j in range(6)]
    ratings = [f"{u}\t{(u * 5 + j) % 12 + 1}\t{3 + j % 3}\t{9 * 10**8 + u * 10 + j}" for u, j in pairs]
    (source / "u.data").write_text("\n".join(ratings) + "\n", encoding="latin-1")
    genres = "|".join("0" * 19)
    items = [f"{i}|Film {i} (1995)|01-Jan-1995||http://x|{genres}" for i in range(1, 13)]
    (source / "u.item").write_text("\n".join(items) + "\n", encoding="latin-1")
    experiment = write_experiment(
        tmp_path,
        '[dataset]\nkind = "movielens"\npath = "copy"\n[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n'
        '[diagnostics]\nnames = ["metrics"]\nk = [5]\n',
    )
    shutil.copytree(source, tmp_path / "copy")
    ws_dir = tmp_path / "ws"
    run_cli("run", str(experiment), "-w", str(ws_dir))
    shutil.rmtree(tmp_path / "copy")
    time.sleep(1.1)  # the fingerprint keeps whole seconds
    shutil.copytree(source, tmp_path / "copy", copy_function=shutil.copyfile)  # new modification times
    capsys.readouterr()
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    out = capsys.readouterr()
    assert "same contents (SHA-256)" in out.err and ",run," not in out.out, out
    first = sorted(p for p in (tmp_path / "copy").rglob("*") if p.is_file())[0]
    content = first.read_bytes()
    first.write_bytes(content[:-2] + bytes(reversed(content[-2:])))  # same size, other bytes
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    assert "ingest,run,the dataset files changed" in capsys.readouterr().out


def test_a_workspace_ingested_before_contents_were_recorded_falls_back_to_times(tmp_path, capsys, monkeypatch):
    """A runs row without the files' contents (an earlier version's ingest): a new modification time re-runs
    ingest, and the reason says what was compared."""
    import os

    data = tmp_path / "events.csv"
    data.write_text("user,item\n" + "\n".join(f"u{u},i{(u * 3 + j) % 15}" for u in range(25) for j in range(6)))
    experiment = write_experiment(
        tmp_path,
        '[dataset]\nkind = "generic"\npath = "events.csv"\nuser_col = "user"\nitem_col = "item"\n'
        '[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n[diagnostics]\nnames = ["metrics"]\nk = [5]\n',
    )
    ws_dir = tmp_path / "ws"
    monkeypatch.setattr(execute, "_inputs_read", lambda step, digests=None: {})
    run_cli("run", str(experiment), "-w", str(ws_dir))  # as an earlier version recorded it: outputs only
    monkeypatch.undo()
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 3_000_000_000))
    capsys.readouterr()
    run_cli("run", str(experiment), "-w", str(ws_dir), "--dry-run", "-f", "csv")
    out = capsys.readouterr().out
    assert "ingest,run,the dataset files changed (size or modification time)" in out, out


def test_a_text_model_depends_on_the_view_it_reads_and_only_the_default_falls_back_to_semantic(tmp_path):
    """The plan, the existence check and the stale check resolve ``text_view`` alike (plan.text_view_names):
    the default ``text`` falls back to a declared ``semantic``, a named view never does."""
    from complement.experiment.plan import build_plan

    embedded = '[[view]]\nname = "semantic"\nembed = "default"\n\n'
    model = '[[view]]\nname = "sem"\nmodel = "semantic"\nepochs = 1\nmin_epochs = 1\nk = 50\n'
    base = SMALL.replace('[[view]]\nname = "lightgcn"', embedded + '[[view]]\nname = "lightgcn"', 1)

    def deps(text_view: str | None) -> list[str]:
        line = "" if text_view is None else f'text_view = "{text_view}"\n'
        config = load(write_experiment(tmp_path, base.replace("[[fusion]]", model + line + "\n[[fusion]]", 1)), [])
        return next(s for s in build_plan(config) if s.id == "view:sem").deps

    assert deps(None) == ["ingest", "view:semantic"]  # an experiment written before the rename
    assert deps("semantic") == ["ingest", "view:semantic"]
    assert deps("mine") == ["ingest"]  # a hand-made view: not the declared 'semantic'
