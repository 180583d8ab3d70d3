"""What a new user meets first: a command run outside a workspace, a mistyped ``init --dataset``, an empty
``--path``, ratios that leave a split with nothing to evaluate, a failed download. Each is refused with one
line that says what is wrong, exit 1, nothing on stdout and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from complement import Workspace
from complement.data.synth import synthesize

NOT_A_WORKSPACE = "is not a workspace (no complement.toml or tables/)"


def tree(root: Path) -> list[str]:
    """Every path under ``root`` (relative), sorted: what a refused command must leave as it was."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def refused(code: int, out: str, err: str) -> bool:
    return code == 1 and out == "" and err.startswith("Error: ") and err.count("\n") == 1


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("newcomer") / "ws"
    synthesize(root, users=60, items=40, interactions_per_user=8, seed=3)
    return root


# ---- 1. a folder that is no workspace ------------------------------------------------------------------------

READERS = [
    ("diagnose", "--sql", "metrics"),
    ("train", "lightgcn"),
    ("embed",),
    ("report",),
    ("probe", "--source", "a", "--target", "b"),
    ("ingest",),
    ("topk", "--view", "x"),
    ("neighbors", "--view", "x"),
    ("fuse", "--views", "a,b", "--method", "rrf", "--view", "ab"),
    ("sql", "SELECT 1"),  # even a query that reads no table: the folder given is the wrong one
    ("sql", "SELECT count(*) FROM items", "--out", "{out}"),
]


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
@pytest.mark.parametrize("how", ["cwd", "-w", "env"])
def test_a_folder_that_is_no_workspace_is_named_as_such(tmp_path, capsys, monkeypatch, args, how):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a workspace\n")
    monkeypatch.delenv("COMPLEMENT_WORKSPACE", raising=False)
    extra: tuple[str, ...] = ()
    if how == "cwd":
        monkeypatch.chdir(folder)
    elif how == "-w":
        extra = ("-w", str(folder))
    else:
        monkeypatch.setenv("COMPLEMENT_WORKSPACE", str(folder))
    args = tuple(str(tmp_path / "out.csv") if a == "{out}" else a for a in args)
    code, out, err = run_cli(capsys, *args, *extra)
    assert refused(code, out, err), (code, out, err)
    assert f"{folder.resolve()} {NOT_A_WORKSPACE}" in err
    assert "-w DIR" in err and "COMPLEMENT_WORKSPACE" in err
    assert "has no '" not in err and "[dataset]" not in err  # not a missing table, nor a file's missing section
    assert tree(folder) == ["notes.txt"]  # nothing written (no tables/, no complement.toml)
    assert not (tmp_path / "out.csv").exists()


def test_library_readers_say_the_same(tmp_path):
    from complement.errors import WorkspaceError

    ws = Workspace(tmp_path)
    for read in (lambda: ws.read_table("items"), lambda: ws.item_ids(), lambda: ws.read_vectors("text")):
        with pytest.raises(WorkspaceError, match="is not a workspace"):
            read()
    assert list(tmp_path.iterdir()) == []


READ_ANYWHERE = [("train", "lightgcn"), ("sql", "SELECT 1"), ("diagnose", "--sql", "metrics"), ("report",)]


@pytest.mark.parametrize("args", READ_ANYWHERE, ids=lambda a: a[0])
def test_a_missing_folder_keeps_its_own_message(tmp_path, capsys, args):
    """Every command words a missing folder, and a file given as the folder, alike (sql said 'is not a folder'
    of a folder that does not exist)."""
    (tmp_path / "afile").write_text("x\n")
    for name, what in (("nosuch", "does not exist"), ("afile", "is not a folder")):
        code, out, err = run_cli(capsys, *args, "-w", str(tmp_path / name))
        assert refused(code, out, err), err
        assert err.startswith(f"Error: workspace {tmp_path / name} {what}: pass -w DIR (or set COMPLEMENT_WORKSPACE)")


def test_the_library_s_sql_refuses_a_folder_that_is_no_workspace(tmp_path):
    from complement.db import run_sql
    from complement.errors import WorkspaceError

    with pytest.raises(WorkspaceError, match="is not a workspace"):
        run_sql(Workspace(tmp_path), "SELECT 1")
    with pytest.raises(WorkspaceError, match="does not exist"):
        run_sql(Workspace(tmp_path / "nosuch"), "SELECT 1")
    assert list(tmp_path.iterdir()) == []


def test_a_workspace_of_tables_without_complement_toml_is_still_a_workspace(tmp_path, small_ws, capsys):
    import shutil

    root = tmp_path / "tables_only"
    shutil.copytree(small_ws, root)
    (root / "complement.toml").unlink()
    code, out, err = run_cli(capsys, "diagnose", "--sql", "metrics", "-w", str(root))
    assert refused(code, out, err) and "has no 'topk' table" in err  # the right advice: train first
    code, out, _ = run_cli(capsys, "sql", "SELECT count(*) AS n FROM items", "-w", str(root), "-f", "csv")
    assert code == 0 and out.splitlines() == ["n", "40"]
    # ingest names the file it rebuilds from as missing, not as a file without [dataset]
    code, out, err = run_cli(capsys, "ingest", "-w", str(root))
    assert refused(code, out, err) and "complement.toml does not exist" in err and "[dataset]" not in err


def test_a_workspace_with_complement_toml_only_gets_the_missing_table_advice(tmp_path, capsys):
    (tmp_path / "complement.toml").write_text('[dataset]\nkind = "movielens"\npath = "x"\n')
    code, out, err = run_cli(capsys, "train", "lightgcn", "-w", str(tmp_path))
    assert refused(code, out, err) and "has no 'items' table" in err


def test_creators_still_work_on_empty_and_new_folders(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(capsys, "synth", str(empty), "--users", "40", "--items", "60")
    assert code == 0, err
    code, _, err = run_cli(capsys, "init", str(tmp_path / "new"), "--dataset", "synthetic")
    assert code == 0, err
    for root in (empty, tmp_path / "new"):
        code, out, _ = run_cli(capsys, "sql", "SELECT count(*) AS n FROM users", "-w", str(root), "-f", "csv")
        assert code == 0 and int(out.splitlines()[1]) > 0


# ---- 2. a mistyped init --dataset ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "closest"), [("synth", "synthetic"), ("movielenz", "movielens"), ("ml100k", "ml-100k"), ("CSVs", "csv")]
)
@pytest.mark.parametrize("with_path", [False, True])
def test_a_mistyped_kind_is_named_first_with_every_kind(tmp_path, capsys, typo, closest, with_path):
    from complement.data.loaders import ALIASES, KINDS

    args = ["init", str(tmp_path / "ws"), "--dataset", typo] + (["--path", str(tmp_path)] if with_path else [])
    code, out, err = run_cli(capsys, *args)
    assert refused(code, out, err), err
    assert f"unknown dataset kind '{typo}' — did you mean '{closest}'?" in err
    listed = err.split("(choose from: ")[1].rstrip(")\n").split(", ")
    assert set(listed) == {*KINDS, *ALIASES, "synthetic"}
    assert "--path" not in err
    assert not (tmp_path / "ws").exists()


def test_the_library_init_names_a_mistyped_kind_before_a_missing_path(tmp_path):
    import complement
    from complement.errors import ComplementError

    with pytest.raises(ComplementError, match="unknown dataset kind 'synth' — did you mean 'synthetic'"):
        complement.init(tmp_path / "ws", "synth")
    with pytest.raises(ComplementError, match="needs path="):  # a known kind without a path: one line, no TypeError
        complement.init(tmp_path / "ws", "movielens")
    assert not (tmp_path / "ws").exists()


def test_the_experiment_file_kind_lists_synthetic_too(tmp_path):
    from complement.data.loaders import check_settings
    from complement.errors import ConfigError

    with pytest.raises(ConfigError, match=r"did you mean 'synthetic'\? \(choose from: .*synthetic"):
        check_settings({"dataset": {"kind": "synthtic"}}, "x.toml")


def test_init_help_names_every_alias(capsys):
    from complement.data.loaders import ALIASES, KINDS

    code, out, _ = run_cli(capsys, "init", "--help")
    text = " ".join(out.split())
    assert code == 0
    for name in (*KINDS, *ALIASES, "synthetic"):
        assert name in text, name


# ---- 3. an empty --path is not the current folder -------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("--dataset", "movielens", "--path", "{blank}"), "--path"),
        (
            ("--dataset", "generic", "--path", "{data}", "--user-col", "u", "--item-col", "i", "--items", "{blank}"),
            "--items",
        ),
    ],
)
def test_an_empty_path_option_of_init_is_refused(tmp_path, capsys, monkeypatch, blank, args, flag):
    data = tmp_path / "x.csv"
    data.write_text("u,i\na,b\n")
    monkeypatch.chdir(tmp_path)  # the current folder: what an empty path used to mean
    (tmp_path / "u.data").write_text("1\t2\t5\t881250949\n")  # a MovieLens file there that --path "" would read
    before = tree(tmp_path)
    argv = [a.format(blank=blank, data=data) for a in args]
    code, out, err = run_cli(capsys, "init", str(tmp_path / "ws"), *argv)
    assert refused(code, out, err), err
    assert err.startswith(f"Error: {flag} is empty")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("blank", ["", " "])
def test_the_library_init_refuses_an_empty_path_too(tmp_path, blank):
    import complement
    from complement.errors import ConfigError

    with pytest.raises(ConfigError, match="path= is empty"):
        complement.init(tmp_path / "ws", "movielens", path=blank)
    data = tmp_path / "x.csv"
    data.write_text("u,i\na,b\n")
    with pytest.raises(ConfigError, match="items= is empty"):
        complement.init(tmp_path / "ws", "generic", path=str(data), user_col="u", item_col="i", items=blank)
    assert not (tmp_path / "ws").exists()


# ---- 4. ratios: rescaled, but a split must leave something to evaluate ----------------------------------------


def _timed_csv(tmp_path: Path) -> Path:
    rows = ["u,i,t"] + [f"u{u},i{(u + j) % 12},{100 * u + j}" for u in range(10) for j in range(8)]
    path = tmp_path / "timed.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("ratios", ["0.8,0.2,0", "1,0,0", "8:2:0"])
@pytest.mark.parametrize("split", ["random", "temporal"])
def test_init_refuses_a_split_with_no_test_share(tmp_path, capsys, ratios, split):
    data = _timed_csv(tmp_path)
    args = ["-d", "csv", "-p", str(data), "--user-col", "u", "--item-col", "i", "--time-col", "t"]
    code, out, err = run_cli(capsys, "init", str(tmp_path / "ws"), *args, "--split", split, "--ratios", ratios)
    assert refused(code, out, err), err
    assert "give the test split no interactions" in err and "nothing to evaluate" in err
    assert not (tmp_path / "ws").exists()
    # generated data goes through the same check
    code, out, err = run_cli(capsys, "init", str(tmp_path / "syn"), "-d", "synthetic", "--ratios", ratios)
    assert refused(code, out, err) and "nothing to evaluate" in err
    assert not (tmp_path / "syn").exists()


def test_ratios_are_rescaled_and_a_zero_valid_share_is_allowed(tmp_path, capsys):
    def counts(root: Path) -> dict[str, int]:
        rows = Workspace(root).query("SELECT split, count(*) AS n FROM interactions GROUP BY 1").to_pylist()
        return {r["split"]: r["n"] for r in rows}

    for name, ratios in (("a", "0.8,0.1,0.1"), ("b", "8,1,1"), ("c", "0.9,0,0.1")):
        code, _, err = run_cli(capsys, "init", str(tmp_path / name), "-d", "synthetic", "--ratios", ratios)
        assert code == 0, err
    assert counts(tmp_path / "a") == counts(tmp_path / "b")
    assert counts(tmp_path / "c").get("valid", 0) == 0 and counts(tmp_path / "c")["test"] > 0
    # loo ignores the ratios: nothing to refuse
    code, _, err = run_cli(
        capsys, "init", str(tmp_path / "loo"), "-d", "synthetic", "--split", "loo", "--ratios", "1,0,0"
    )
    assert code == 0, err


def test_a_zero_valid_share_trains_without_early_stopping(tmp_path, capsys):
    import complement

    complement.init(tmp_path / "ws", "synthetic", users=40, items=60, ratios=(0.9, 0.0, 0.1))
    result = complement.train(tmp_path / "ws", "lightgcn", epochs=2, k=20, device="cpu")
    assert result.details["epochs_run"] == 2 and result.details["best_valid_recall@20"] is None
    assert result.details["test_recall@20"] is not None


@pytest.mark.parametrize(
    ("split", "expected"),
    [
        ({"method": "random", "ratios": [0.8, 0.2, 0.0]}, "nothing to evaluate"),
        ({"method": "temporal", "ratios": [0.8, 0.2, 0]}, "nothing to evaluate"),
        ({"method": "temporal", "temporal_cutoffs": [0.8, 1.0]}, "0 < q1 <= q2 < 1"),
    ],
)
def test_the_experiment_file_split_goes_through_the_same_check(tmp_path, capsys, small_ws, split, expected):
    import shutil

    import tomli_w

    from complement.data.loaders import check_settings
    from complement.errors import ConfigError

    with pytest.raises(ConfigError, match=expected):
        check_settings({"dataset": {"kind": "synthetic"}, "split": split}, "x.toml")
    # complement ingest of a workspace whose complement.toml says so: refused, the tables kept
    root = tmp_path / "ws"
    shutil.copytree(small_ws, root)
    config = Workspace(root).config
    config["split"] = {**config.get("split", {}), **split}
    (root / "complement.toml").write_text(tomli_w.dumps(config))
    before = tree(root)
    code, out, err = run_cli(capsys, "ingest", "-w", str(root))
    assert refused(code, out, err) and expected in err, err
    assert tree(root) == before
    # the loo split ignores the ratios
    check_settings({"dataset": {"kind": "synthetic"}, "split": {"method": "loo", "ratios": [1, 0, 0]}})


def test_init_help_says_the_ratios_are_rescaled(capsys):
    code, out, _ = run_cli(capsys, "init", "--help")
    text = " ".join(out.split())
    assert code == 0 and "rescaled to sum to 1 (8,1,1 works)" in text


# ---- 5. a failed fetch leaves no folder it made ---------------------------------------------------------------


def _stopped_server_url() -> str:
    from test_fetch import FixtureServer

    with FixtureServer() as stopped:
        return stopped.url  # nothing listens there any more: the download fails at once


@pytest.mark.parametrize("cache", ["cache", "deep/er/cache"])
def test_a_failed_fetch_removes_the_folders_it_made(tmp_path, capsys, cache):
    url = _stopped_server_url()
    args = ("movielens-100k", "--cache-dir", str(tmp_path / cache), "--base-url", url, "--no-verify")
    code, out, err = run_cli(capsys, "fetch", *args)
    assert refused(code, out, err) and "could not download" in err
    assert list(tmp_path.iterdir()) == []  # neither movielens-100k/ nor the cache folders it made


def test_a_failed_fetch_keeps_what_was_there_before(tmp_path, capsys):
    cache = tmp_path / "cache"
    (cache / "other").mkdir(parents=True)
    (cache / "movielens-100k").mkdir()
    (cache / "movielens-100k" / "mine.txt").write_text("kept\n")
    url = _stopped_server_url()
    args = ("movielens-100k", "--cache-dir", str(cache), "--base-url", url, "--no-verify")
    code, out, err = run_cli(capsys, "fetch", *args)
    assert refused(code, out, err)
    assert tree(tmp_path) == ["cache", "cache/movielens-100k", "cache/movielens-100k/mine.txt", "cache/other"]
    # a dataset folder it makes inside an existing cache goes, the cache stays
    code, out, err = run_cli(
        capsys, "fetch", "movielens-1m", "--cache-dir", str(cache), "--base-url", url, "--no-verify"
    )
    assert refused(code, out, err)
    assert tree(tmp_path) == ["cache", "cache/movielens-100k", "cache/movielens-100k/mine.txt", "cache/other"]


def test_a_failed_second_download_removes_the_first_from_the_folder_it_made(tmp_path, capsys):
    import gzip

    from test_fetch import AMAZON_RAW, FixtureServer

    with FixtureServer() as server:  # the reviews are there, the meta file is not (HTTP 404)
        server.files[f"{AMAZON_RAW}/review_categories/Video_Games.jsonl.gz"] = gzip.compress(b"{}\n")
        args = ("amazon-2023:Video_Games", "--cache-dir", str(tmp_path / "c"), "--base-url", server.url, "--no-verify")
        code, out, err = run_cli(capsys, "fetch", *args)
    assert refused(code, out, err) and "HTTP 404" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [["topk", "--view", "a"], ["diagnose", "--sql", "metrics"], ["report"], ["ingest"], ["sql", "SELECT 1"]],
    ids=lambda c: c[0],
)
def test_a_blank_workspace_option_is_refused_not_read_as_the_current_folder(tmp_path, capsys, monkeypatch, command):
    """`-w "$WS"` with WS unset: before, the current folder was used (a workspace there was read or written)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *command, "-w", "  ")
    assert code == 1 and out == ""
    assert err == "Error: -w is empty: give the workspace folder (write . for the current folder)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        (["init", "{blank}", "--dataset", "synthetic"], "DIR"),
        (["synth", "{blank}"], "DIR"),
        (["demo", "{blank}"], "DIR"),
        (["run", "{blank}"], "FILE"),
    ],
    ids=lambda c: c[0] if isinstance(c, list) else c,
)
@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_folder_argument_is_refused_not_read_as_the_current_folder(
    tmp_path, capsys, monkeypatch, command, flag, blank
):
    """`complement init "$WS"` with WS unset created a workspace in the current folder."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, *[blank if a == "{blank}" else a for a in command])
    assert code == 1 and out == ""
    assert err.startswith(f"Error: {flag} is empty: give the ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
