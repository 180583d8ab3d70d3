"""The files a run reads from outside the workspace: a generic dataset's items file and an imported view's
vector files are keyed like the dataset itself (an edit re-runs the step that reads them, a copy with the same
contents does not), and a workspace moved together with its data keeps every step up to date."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from complement import Workspace
from complement.cli.app import main
from complement.experiment import execute

EXPERIMENT = """
[dataset]
kind = "generic"
path = "data/events.csv"
items = "data/items.csv"
user_col = "user"
item_col = "item"
text_cols = ["title"]

[[view]]
name = "pop"
model = "pop"
k = 5

[[view]]
name = "ext"
from = "vectors/items.parquet"
user_from = "vectors/users.parquet"
k = 5

[[fusion]]
name = "mix"
views = ["pop", "ext"]
method = "rrf"
k = 5

[diagnostics]
names = ["metrics"]
k = [5]
"""


def make_project(root: Path) -> Path:
    """A folder with data/, vectors/ and exp.toml (relative paths), and a workspace ws/ it ran into."""
    data, vectors = root / "data", root / "vectors"
    data.mkdir(parents=True)
    vectors.mkdir()
    rows = [f"u{u},i{(u * 7 + j * 3) % 20}" for u in range(30) for j in range(8)]
    (data / "events.csv").write_text("user,item\n" + "\n".join(rows) + "\n", encoding="utf-8")
    titles = [f"i{i},Title {i}" for i in range(20)]
    (data / "items.csv").write_text("item,title\n" + "\n".join(titles) + "\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    for name, ids in (("items", [f"i{i}" for i in range(20)]), ("users", [f"u{u}" for u in range(30)])):
        table = pa.table({"id": ids, "vector": rng.normal(size=(len(ids), 4)).tolist()})
        pq.write_table(table, vectors / f"{name}.parquet")
    (root / "exp.toml").write_text(EXPERIMENT, encoding="utf-8")
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws")])
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    return make_project(tmp_path / "project")


def plan(capsys, root: Path, *extra: str) -> tuple[dict[str, str], str]:
    """``complement run --dry-run``: step -> reason, and what it printed on stderr."""
    capsys.readouterr()
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws"), "--dry-run", "-f", "csv", *extra])
    out = capsys.readouterr()
    return {row[0]: row[2] for row in list(csv.reader(out.out.splitlines()))[1:]}, out.err


def touch(path: Path, seconds: int = 5) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


def up_to_date(reasons: dict[str, str]) -> bool:
    return set(reasons.values()) == {"up to date"}


def test_an_edited_items_file_re_runs_ingest_and_what_reads_it(project, capsys):
    """The items file of a generic dataset is one of the files ingest reads: editing a title (the same size)
    re-runs ingest, where it used to leave the old titles in place with everything 'up to date'."""
    reasons, _ = plan(capsys, project)
    assert up_to_date(reasons), reasons
    items = project / "data" / "items.csv"
    items.write_text(items.read_text(encoding="utf-8").replace("Title 3", "Retitled"), encoding="utf-8")
    reasons, _ = plan(capsys, project)
    assert reasons["ingest"] == "the dataset files changed", reasons
    assert reasons["view:pop"] == reasons["view:ext"] == reasons["fusion:mix"] == "an input changed"
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    titles = Workspace(project / "ws").query("SELECT title FROM items WHERE item_id = 'i3'").to_pylist()
    assert titles == [{"title": "Retitled"}], titles
    assert up_to_date(plan(capsys, project)[0])


def test_an_items_file_touched_or_renamed_with_the_same_contents_keeps_everything(project, capsys):
    items = project / "data" / "items.csv"
    touch(items)
    reasons, err = plan(capsys, project)
    assert up_to_date(reasons) and "other modification times" in err and "same contents (SHA-256)" in err, err
    renamed = items.rename(project / "data" / "titles.csv")
    reasons, err = plan(capsys, project, "--set", f"dataset.items={renamed}")
    assert up_to_date(reasons) and f"items = {renamed} (was {items})" in err, err


def test_an_imported_file_rewritten_re_runs_the_view_and_the_same_bytes_do_not(project, capsys):
    vectors = project / "vectors" / "users.parquet"
    original = vectors.read_bytes()
    table = pq.read_table(vectors)
    rows = np.asarray(table.column("vector").to_pylist()) * -1.0
    pq.write_table(pa.table({"id": table.column("id"), "vector": rows.tolist()}), vectors)
    reasons, _ = plan(capsys, project)
    assert reasons["ingest"] == reasons["view:pop"] == "up to date", reasons
    assert reasons["view:ext"] == "the files it imports changed", reasons
    assert reasons["fusion:mix"] == "an input changed", reasons
    vectors.write_bytes(original)  # the same bytes again, with a new modification time
    touch(vectors)
    reasons, err = plan(capsys, project)
    assert up_to_date(reasons) and "the files view 'ext' imports have other modification times" in err, err


def test_a_workspace_moved_with_its_data_stays_up_to_date(project, tmp_path, capsys):
    """The experiment names its files relative to itself, so moving the folder moves every path: the files are
    hashed and, holding the contents recorded, ingest, the imported view and everything after them stay (the
    results too: they are recorded by content, not by modification time)."""
    moved = tmp_path / "elsewhere" / "project"
    shutil.copytree(project, moved)  # new modification times as well as new paths
    shutil.rmtree(project)
    reasons, err = plan(capsys, moved)
    assert up_to_date(reasons), (reasons, err)
    assert f"path = {moved / 'data' / 'events.csv'} (was {project / 'data' / 'events.csv'})" in err, err
    assert "the files view 'ext' imports lie elsewhere" in err, err
    main(["run", str(moved / "exp.toml"), "-w", str(moved / "ws")])
    assert "everything is up to date" in capsys.readouterr().err

    # an edit after the move: named as both
    events = moved / "data" / "events.csv"
    events.write_text(events.read_text(encoding="utf-8") + "u1,i0\n", encoding="utf-8")
    reasons, _ = plan(capsys, moved)
    assert reasons["ingest"] == "the dataset files lie elsewhere and changed", reasons
    assert reasons["view:ext"] == "an input changed", reasons

    # a step anchored to its old paths that runs anyway (forced) runs, and is recorded, with the paths of now
    main(["run", str(moved / "exp.toml"), "-w", str(moved / "ws"), "--force", "view:ext"])
    params = json.loads(
        Workspace(moved / "ws")
        .query("SELECT params FROM runs WHERE step = 'run:view:ext' ORDER BY finished_at DESC LIMIT 1")
        .column(0)[0]
        .as_py()
    )
    assert params["from"] == str(moved / "vectors" / "items.parquet"), params
    reasons, err = plan(capsys, moved)
    assert up_to_date(reasons) and "note: the" not in err, (reasons, err)


def test_another_setting_beside_a_move_re_runs_as_a_setting(project, tmp_path, capsys):
    moved = tmp_path / "moved"
    shutil.copytree(project, moved)
    reasons, _ = plan(capsys, moved, "--set", "split.seed=3")
    assert reasons["ingest"] == "settings changed", reasons
    reasons, _ = plan(capsys, moved, "--set", "view.ext.k=6")
    assert reasons["ingest"] == "up to date" and reasons["view:ext"] == "settings changed", reasons


def test_a_file_added_to_a_moved_dataset_folder_re_runs_ingest(tmp_path, capsys, monkeypatch):
    """A folder dataset (MovieLens' layout) is keyed by its files' names under the folder: moved whole it stays,
    one more file in it re-runs ingest (as a setting: the path moved, and the files are others)."""
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    folder = tmp_path / "a" / "ml"
    folder.mkdir(parents=True)
    rows = [f"{u + 1}\t{(u * 7 + j * 3) % 20 + 1}\t5\t{j}" for u in range(30) for j in range(8)]
    (folder / "u.data").write_text("\n".join(rows) + "\n", encoding="utf-8")
    movies = [f"{i + 1}|Movie {i + 1} (1995)|01-Jan-1995||x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0" for i in range(20)]
    (folder / "u.item").write_text("\n".join(movies) + "\n", encoding="latin-1")
    (tmp_path / "a" / "exp.toml").write_text(
        '[dataset]\nkind = "movielens"\npath = "ml"\n[[view]]\nname = "pop"\nmodel = "pop"\nk = 5\n'
        '[diagnostics]\nnames = ["metrics"]\nk = [5]\n',
        encoding="utf-8",
    )
    main(["run", str(tmp_path / "a" / "exp.toml"), "-w", str(tmp_path / "a" / "ws")])
    shutil.move(tmp_path / "a", tmp_path / "b")
    reasons, err = plan(capsys, tmp_path / "b")
    assert up_to_date(reasons) and "lie elsewhere" in err, (reasons, err)
    (tmp_path / "b" / "ml" / "README").write_text("notes\n", encoding="utf-8")
    reasons, _ = plan(capsys, tmp_path / "b")
    assert reasons["ingest"] == "settings changed", reasons  # another folder, holding another list of files


def test_results_recorded_by_modification_time_are_still_compared_so(tmp_path):
    """A run row of an earlier version recorded a result file by size and modification time (nanoseconds):
    the file as it was is up to date, a rewritten one is not."""
    results = tmp_path / "results"
    results.mkdir()
    path = results / "metrics.parquet"
    path.write_bytes(b"PAR1 made by an earlier version")
    ws = Workspace(tmp_path)
    stat = path.stat()
    current = [["results/metrics.parquet", stat.st_size, "0" * 64]]
    assert execute._same_outputs(ws, [["results/metrics.parquet", stat.st_size, stat.st_mtime_ns]], current)
    assert not execute._same_outputs(ws, [["results/metrics.parquet", stat.st_size, stat.st_mtime_ns + 1]], current)
    assert not execute._same_outputs(ws, [["results/metrics.parquet", stat.st_size, "1" * 64]], current)
    assert not execute._same_outputs(ws, [], current)


def test_a_model_saved_again_over_its_folder_re_embeds_and_a_touched_one_does_not(tmp_path, capsys, monkeypatch):
    """The model folder an embed step reads is fingerprinted by content: weights of the same size saved over it
    (a model fine-tuned again) re-run the embed step, without the cached vectors of the old weights, and what
    reads it; new modification times alone do not."""
    from model_folders import linked_model

    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    model = linked_model(tmp_path / "my-model", copied=("model.safetensors",))  # weights of its own, overwritten
    root = tmp_path / "project"
    root.mkdir()
    (root / "exp.toml").write_text(
        "[dataset]\nkind = 'synthetic'\nusers = 40\nitems = 30\ninteractions_per_user = 6\nseed = 1\n"
        f"[[view]]\nname = 'text'\nembed = '{model}'\n"
        "[[view]]\nname = 'sem'\nmodel = 'semantic'\nepochs = 1\nmin_epochs = 1\nk = 5\n"
        "[diagnostics]\nnames = ['metrics']\nk = [5]\n",
        encoding="utf-8",
    )
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws")])
    assert up_to_date(plan(capsys, root)[0])
    weights = model / "model.safetensors"
    touch(weights)
    assert up_to_date(plan(capsys, root)[0])

    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one weight: the same size, loadable, other weights
    weights.write_bytes(bytes(data))
    reasons, _ = plan(capsys, root)
    assert reasons["view:text"] == "the model's files changed" and reasons["view:sem"] == "an input changed", reasons
    assert reasons["ingest"] == "up to date", reasons
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws")])
    ws = Workspace(root / "ws")
    embeds = ws.query("SELECT metrics FROM runs WHERE step = 'embed' ORDER BY finished_at").column(0).to_pylist()
    assert [json.loads(m)["n_cached"] for m in embeds] == [0, 0], embeds  # encoded again, not the old cache
    assert up_to_date(plan(capsys, root)[0])


def movielens_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rows = [f"{u + 1}\t{(u * 7 + j * 3) % 20 + 1}\t5\t{j}" for u in range(30) for j in range(8)]
    (folder / "u.data").write_text("\n".join(rows) + "\n", encoding="utf-8")
    movies = [f"{i + 1}|Movie {i + 1} (1995)|01-Jan-1995||x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0" for i in range(20)]
    (folder / "u.item").write_text("\n".join(movies) + "\n", encoding="latin-1")
    return folder


def pop_experiment(root: Path, dataset: str) -> Path:
    experiment = root / "exp.toml"
    experiment.write_text(
        f"[dataset]\n{dataset}\n[[view]]\nname = 'pop'\nmodel = 'pop'\nk = 5\n"
        "[diagnostics]\nnames = ['metrics']\nk = [5]\n",
        encoding="utf-8",
    )
    main(["run", str(experiment), "-w", str(root / "ws")])
    return experiment


def test_a_dataset_named_by_one_file_keys_the_files_its_loader_reads_beside_it(tmp_path, capsys):
    """MovieLens given `u.data` reads `u.item` beside it (as amazon2023 reads `meta_` files and recbole `.item`
    files): a title edited there re-runs ingest. A generic dataset's file has no such siblings."""
    movielens_folder(tmp_path / "ml")
    pop_experiment(tmp_path, "kind = 'ml-100k'\npath = 'ml/u.data'")
    assert up_to_date(plan(capsys, tmp_path)[0])
    items = tmp_path / "ml" / "u.item"
    items.write_text(items.read_text(encoding="latin-1").replace("Movie 3 ", "Movie X "), encoding="latin-1")
    assert plan(capsys, tmp_path)[0]["ingest"] == "the dataset files changed"
    main(["run", str(tmp_path / "exp.toml"), "-w", str(tmp_path / "ws")])
    titles = Workspace(tmp_path / "ws").query("SELECT title FROM items WHERE title LIKE 'Movie X%'").to_pylist()
    assert len(titles) == 1, titles

    generic = tmp_path / "g"
    generic.mkdir()
    (generic / "events.csv").write_text("user,item\n" + "\n".join(f"u{u},i{u % 7}" for u in range(40)) + "\n")
    pop_experiment(generic, "kind = 'csv'\npath = 'events.csv'\nuser_col = 'user'\nitem_col = 'item'")
    (generic / "notes.txt").write_text("not read\n")
    assert up_to_date(plan(capsys, generic)[0])


def test_hidden_files_do_not_count_and_a_large_folder_counts_every_file(tmp_path, capsys):
    """A `.git` folder (or an editor's swap file) in the dataset folder is not read by any loader: a commit there
    keeps ingest. A folder of more than 500 files is keyed whole: an edit of its last file re-runs ingest."""
    folder = movielens_folder(tmp_path / "ml")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    extra = folder / "posters"
    extra.mkdir()
    for i in range(520):
        (extra / f"p{i:04d}.txt").write_text("x")
    pop_experiment(tmp_path, "kind = 'movielens'\npath = 'ml'")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/other\n")
    (folder / ".u.data.swp").write_text("swap")
    assert up_to_date(plan(capsys, tmp_path)[0])
    (folder / "u.data").write_text((folder / "u.data").read_text() + "1\t20\t5\t99\n")  # sorted after 'posters/'
    assert plan(capsys, tmp_path)[0]["ingest"] == "the dataset files changed"


def test_a_file_written_while_ingest_reads_it_is_not_recorded_as_ingested(tmp_path, capsys, monkeypatch):
    """The files' contents are recorded before the step reads them: one rewritten during the step (another
    writer) re-runs ingest next time, where recording after the step took the new bytes as ingested."""
    root = tmp_path / "p"
    root.mkdir()
    data = root / "events.csv"
    data.write_text("user,item\n" + "\n".join(f"u{u},i{(u * 3 + j) % 15}" for u in range(25) for j in range(6)) + "\n")
    ingest = execute.STEP_RUNNERS["ingest"]

    def ingest_then_another_writer(ws, step, config):
        rows = ingest(ws, step, config)
        data.write_text(data.read_text().replace("u0,i0", "u0,i9", 1))  # the same size, after the read
        return rows

    monkeypatch.setitem(execute.STEP_RUNNERS, "ingest", ingest_then_another_writer)
    pop_experiment(root, "kind = 'generic'\npath = 'events.csv'\nuser_col = 'user'\nitem_col = 'item'")
    monkeypatch.undo()
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 3_000_000_000))
    assert plan(capsys, root)[0]["ingest"] == "the dataset files changed"


def test_lists_of_an_imported_view_rewritten_outside_run_re_run_the_view(project, capsys):
    """An imported view with user vectors writes top-K lists: `complement topk` over them with another exclude
    (or k) is an output changed outside the run, not an up-to-date view."""
    main(["topk", "--view", "ext", "--k", "5", "--exclude", "train", "-w", str(project / "ws")])
    reasons, _ = plan(capsys, project)
    assert reasons["view:ext"] == "output changed outside `complement run`", reasons
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    assert up_to_date(plan(capsys, project)[0])


def test_a_view_made_outside_the_run_is_computed_into_the_results(project, capsys):
    """The run's note says the diagnostics include every view with top-K lists: a view trained by hand after the
    run makes the stored results incomplete, so the next run computes them again."""
    import pyarrow.parquet as parquet

    main(["train", "random", "--view", "rnd", "--k", "5", "-w", str(project / "ws")])
    reasons, _ = plan(capsys, project)
    assert reasons["diagnostics"] == "an input changed after the results were computed", reasons
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    views = set(parquet.read_table(project / "ws" / "results" / "metrics.parquet").column("view").to_pylist())
    assert "rnd" in views, views
    assert up_to_date(plan(capsys, project)[0])


def test_a_table_file_removed_by_hand_is_named_with_the_way_out(project, capsys):
    """Every query of a workspace whose catalog lists a file that is gone failed with DuckDB's own message; now
    the message names the table, the file and what to do, and `complement drop` then `run` mend a view."""
    ws = project / "ws"
    for path in (ws / "tables" / "topk" / "pop").glob("*.parquet"):
        path.unlink()
    with pytest.raises(SystemExit):
        main(["run", str(project / "exp.toml"), "-w", str(ws), "--dry-run"])
    err = capsys.readouterr().err
    assert err.startswith("Error: table 'topk' of workspace") and f"`complement drop pop -w {ws}`" in err, err
    main(["drop", "pop", "-w", str(ws)])
    main(["run", str(project / "exp.toml"), "-w", str(ws)])
    assert up_to_date(plan(capsys, project)[0])

    for path in (ws / "tables" / "items").rglob("*.parquet"):
        path.unlink()
    with pytest.raises(SystemExit):
        main(["sql", "SELECT count(*) FROM users", "-w", str(ws)])
    assert "make the workspace again in a new folder" in capsys.readouterr().err


HAND_MADE_TEXT = """
[dataset]
kind = "synthetic"
users = 60
items = 80

[[view]]
name = "pop"
model = "pop"
k = 5

[[view]]
name = "sem"
model = "semantic"
text_view = "handtext"
epochs = 2
k = 5

[[fusion]]
name = "mix"
views = ["pop", "sem"]
method = "rrf"
k = 5

[diagnostics]
names = ["metrics"]
k = [5]
"""


def test_a_text_view_made_outside_the_run_and_made_again_re_runs_the_model(tmp_path, capsys):
    """A text model may read a view of the workspace that the experiment does not make (made by hand): its key
    cannot see that view made again, and it stayed 'up to date' while every run then failed on 'view sem is
    stale'. The catalogue's lineage sees it: the model and what reads it run again, once."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "exp.toml").write_text(HAND_MADE_TEXT, encoding="utf-8")
    ws = str(root / "ws")
    first = HAND_MADE_TEXT.split('[[view]]\nname = "sem"')[0] + '[diagnostics]\nnames = ["metrics"]\nk = [5]\n'
    (root / "first.toml").write_text(first, encoding="utf-8")
    main(["run", str(root / "first.toml"), "-w", ws])  # the workspace, then its text view made by hand
    main(["train", "random", "--view", "handtext", "--k", "5", "-w", ws])
    main(["run", str(root / "exp.toml"), "-w", ws])
    assert up_to_date(plan(capsys, root)[0])

    main(["train", "random", "--view", "handtext", "--k", "5", "--seed", "7", "-w", ws])
    reasons, _ = plan(capsys, root)
    assert reasons["view:sem"] == "view 'handtext', which it was made from, was made again outside `complement run`"
    assert reasons["view:pop"] == reasons["ingest"] == "up to date", reasons
    assert reasons["fusion:mix"] == reasons["diagnostics"] == "an input changed", reasons
    main(["run", str(root / "exp.toml"), "-w", ws])
    assert up_to_date(plan(capsys, root)[0])
    main(["sql", "SELECT count(*) AS n FROM topk WHERE view = 'mix'", "-w", ws])  # refuses stale views
    assert capsys.readouterr().out.split() == ["n", "300"]

    # the run's own ingest makes the hand-made view stale: the model is not trained on it, and every run after
    # is refused (not re-run forever) until the view is made again
    (root / "exp.toml").write_text(HAND_MADE_TEXT + "\n[split]\nseed = 7\n", encoding="utf-8")
    for step in ("", "exp.toml: "):
        capsys.readouterr()
        with pytest.raises(SystemExit):
            main(["run", str(root / "exp.toml"), "-w", ws])
        err = " ".join(capsys.readouterr().err.split())
        assert err.startswith(f"Error: {step}view 'sem' reads the text vectors of view 'handtext' (text_view)"), err
        assert f"refresh them with `complement train random --view handtext --seed 7 --k 5 -w {ws}`" in err, err
    main(["train", "random", "--view", "handtext", "--seed", "7", "--k", "5", "-w", ws])
    main(["run", str(root / "exp.toml"), "-w", ws])
    assert up_to_date(plan(capsys, root)[0])


def test_a_dataset_reached_through_a_link_is_read_where_the_link_points_now(project, capsys):
    """The workspace's copy of the experiment kept the path with its links resolved, so `complement run -w WS`
    (no file) kept reading the old target after the link was pointed at a new version of the data."""
    data = project / "data"
    data.rename(project / "data-v1")
    data.symlink_to(project / "data-v1")
    ws = str(project / "ws")
    main(["run", str(project / "exp.toml"), "-w", ws])
    kept = (project / "ws" / "complement.toml").read_text(encoding="utf-8")
    assert f'"{data / "items.csv"}"' in kept and "data-v1" not in kept, kept

    shutil.copytree(project / "data-v1", project / "data-v2")
    items = project / "data-v2" / "items.csv"
    items.write_text(items.read_text(encoding="utf-8").replace("Title 3", "Retitled"), encoding="utf-8")
    data.unlink()
    data.symlink_to(project / "data-v2")
    capsys.readouterr()
    main(["run", "-w", ws, "--dry-run", "-f", "csv"])
    reasons = {row[0]: row[2] for row in list(csv.reader(capsys.readouterr().out.splitlines()))[1:]}
    assert reasons["ingest"] == "the dataset files changed", reasons
    main(["run", "-w", ws])
    titles = Workspace(ws).query("SELECT title FROM items WHERE item_id = 'i3'").to_pylist()
    assert titles == [{"title": "Retitled"}], titles


def test_init_keeps_a_dataset_path_through_a_link_as_given(tmp_path, monkeypatch):
    """`complement init` writes the dataset path made absolute, its links kept (read where they point then)."""
    (tmp_path / "data-v1").mkdir()
    rows = "".join(f"u{u},i{(u + j) % 10}\n" for u in range(20) for j in range(5))
    (tmp_path / "data-v1" / "events.csv").write_text("user_id,item_id\n" + rows, encoding="utf-8")
    titles = "".join(f"i{i},Title {i}\n" for i in range(10))
    (tmp_path / "data-v1" / "items.csv").write_text("item_id,title\n" + titles, encoding="utf-8")
    (tmp_path / "data").symlink_to(tmp_path / "data-v1")
    monkeypatch.chdir(tmp_path)
    main(["init", "ws", "--dataset", "generic", "--path", "data/events.csv", "--items", "data/items.csv"])
    kept = (tmp_path / "ws" / "complement.toml").read_text(encoding="utf-8")
    assert f'"{tmp_path / "data" / "events.csv"}"' in kept and f'"{tmp_path / "data" / "items.csv"}"' in kept, kept


def rewrite_keeping_size_and_time(path: Path, data: bytes) -> None:
    """Other bytes of the same size written over ``path`` with its modification time put back (``cp -p``)."""
    stat = path.stat()
    assert len(data) == stat.st_size
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_other_bytes_with_the_same_size_and_time_re_run_the_step(project, capsys):
    """Keyed by name, size and modification time to the second, a same-size edit that put the time back (`cp -p`,
    `rsync -t`, an edit within the second of the run) left ingest and an imported view 'up to date' with the old
    contents. The status recorded beside the run (the status-change time moves with any write) sees it."""
    items = project / "data" / "items.csv"
    rewrite_keeping_size_and_time(items, items.read_bytes().replace(b"Title 3", b"Title X"))
    vectors = project / "vectors" / "items.parquet"
    table = pq.read_table(vectors)
    reordered = pa.table({"id": table.column("id"), "vector": table.column("vector").to_pylist()[::-1]})
    pq.write_table(reordered, project / "reordered.parquet")
    rewrite_keeping_size_and_time(vectors, (project / "reordered.parquet").read_bytes())
    reasons, _ = plan(capsys, project)
    assert reasons["ingest"] == "the dataset files changed", reasons
    assert reasons["view:ext"] == "an input changed", reasons  # after ingest; the view's own check below
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    titles = Workspace(project / "ws").query("SELECT title FROM items WHERE item_id = 'i3'").to_pylist()
    assert titles == [{"title": "Title X"}], titles
    assert up_to_date(plan(capsys, project)[0])

    rewrite_keeping_size_and_time(vectors, table_bytes := (project / "reordered.parquet").read_bytes())
    assert up_to_date(plan(capsys, project)[0])  # written again, but with the bytes it holds: nothing changed
    pq.write_table(table, project / "original.parquet")
    original = (project / "original.parquet").read_bytes()
    assert original != table_bytes
    rewrite_keeping_size_and_time(vectors, original)
    reasons, _ = plan(capsys, project)
    assert reasons["view:ext"] == "the files it imports changed" and reasons["ingest"] == "up to date", reasons


def test_a_file_hashed_once_is_not_read_again_while_its_status_stays(project, capsys, monkeypatch):
    """A touched file with the recorded contents is hashed by the first run after the touch; its hash is
    remembered in the workspace's cache by path and status, so the runs after it read nothing."""
    from complement.experiment import digests

    read: list[Path] = []

    def counting(path: Path) -> str:
        read.append(Path(path))
        return file_digest(path)

    file_digest = digests.file_digest
    monkeypatch.setattr(digests, "file_digest", counting)
    items = project / "data" / "items.csv"
    touch(items)
    os.chmod(items, 0o600)  # a status change without a write
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    assert read == [items], read
    cache = json.loads((project / "ws" / "cache" / digests.CACHE_NAME).read_text(encoding="utf-8"))
    assert str(items) in cache, cache
    read.clear()
    for _ in range(2):
        reasons, err = plan(capsys, project)
        assert up_to_date(reasons) and "same contents (SHA-256)" in err, err
    main(["run", str(project / "exp.toml"), "-w", str(project / "ws")])
    assert read == [], read


def test_paths_written_with_a_tilde_are_keyed_like_any_other(tmp_path, capsys, monkeypatch):
    """`~/...` in the file (or in --set) was read by the loaders but kept unexpanded, so the plan found no such
    file to key: edits of the items file or of imported vectors never re-ran anything."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COMPLEMENT_QUIET", "0")
    root = make_project(tmp_path / "project")
    text = EXPERIMENT.replace('"data/items.csv"', '"~/project/data/items.csv"')
    (root / "exp.toml").write_text(text.replace('"vectors/items.parquet"', '"~/project/vectors/items.parquet"'))
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws")])
    kept = (root / "ws" / "complement.toml").read_text(encoding="utf-8")
    assert "~" not in kept and f'"{root / "data" / "items.csv"}"' in kept, kept
    items = root / "data" / "items.csv"
    items.write_text(items.read_text(encoding="utf-8").replace("Title 3", "Renamed"), encoding="utf-8")
    assert plan(capsys, root)[0]["ingest"] == "the dataset files changed"
    main(["run", str(root / "exp.toml"), "-w", str(root / "ws")])
    vectors = root / "vectors" / "items.parquet"
    table = pq.read_table(vectors)
    pq.write_table(pa.table({"id": table.column("id"), "vector": table.column("vector").to_pylist()[::-1]}), vectors)
    reasons, _ = plan(capsys, root)
    assert reasons["view:ext"] == "the files it imports changed" and reasons["ingest"] == "up to date", reasons


def test_a_workspace_and_an_experiment_file_inside_the_dataset_folder_are_not_dataset_files(tmp_path, capsys):
    """With `path = "."` and the workspace inside the dataset folder, the workspace's own tables counted as
    dataset files, so every run re-ran everything; an experiment file there made every setting's edit re-ingest."""
    folder = movielens_folder(tmp_path / "ml")
    pop_experiment(folder, "kind = 'ml-100k'\npath = '.'")
    assert up_to_date(plan(capsys, folder)[0])
    main(["run", str(folder / "exp.toml"), "-w", str(folder / "ws")])
    assert up_to_date(plan(capsys, folder)[0])
    experiment = folder / "exp.toml"
    experiment.write_text(
        experiment.read_text(encoding="utf-8").replace("names = ['metrics']", "names = ['metrics', 'overlap']")
    )
    reasons, _ = plan(capsys, folder)
    assert reasons["ingest"] == "up to date" and reasons["diagnostics"] == "settings changed", reasons
    (folder / "u.item").write_text((folder / "u.item").read_text(encoding="latin-1").replace("Movie 3 ", "Movie X "))
    assert plan(capsys, folder)[0]["ingest"] == "the dataset files changed"
