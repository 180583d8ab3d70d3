"""A view is written by one kind of step: a step of another kind does not half-replace it, and
`complement drop` frees the name (complement/viewkind.py)."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

import complement
from complement import Workspace
from complement.data.synth import synthesize
from complement.viewkind import IMPORTED_LISTS, IMPORTED_VECTORS, TEXT, TRAINED, kind_of_command, view_kind


def snapshot(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A synthetic workspace with one view of every kind: text vectors (embed), a trained model (pop), a
    fusion (score), imported vectors with user vectors and lists (mine), imported lists (listed)."""
    root = tmp_path_factory.mktemp("kinds") / "ws"
    synthesize(root, users=40, items=30, interactions_per_user=8, seed=3)
    ws = Workspace(root)
    files = root.parent
    rng = np.random.default_rng(0)
    for entity, ids in (("item", ws.item_ids()), ("user", ws.user_ids())):
        pq.write_table(
            pa.table({"id": list(ids), "vector": rng.normal(size=(len(ids), 4)).astype("float32").tolist()}),
            files / f"{entity}s.parquet",
        )
    lists = files / "lists.csv"
    lists.write_text("user,item,rank\n" + "".join(f"{u},{ws.item_ids()[0]},1\n" for u in ws.user_ids()))
    ok = [
        ("embed", "-w", str(root), "--device", "cpu"),
        ("train", "pop", "-w", str(root), "--k", "10"),
        ("train", "pop", "-w", str(root), "--view", "pop2", "--k", "10"),
        (
            "fuse",
            "-w",
            str(root),
            "--views",
            "pop,pop2",
            "--method",
            "score",
            "--view",
            "score",
            "--weight",
            "0.5",
            "--k",
            "10",
        ),
        ("embed", "-w", str(root), "--from", str(files / "items.parquet"), "--view", "mine"),
        ("embed", "-w", str(root), "--from", str(files / "users.parquet"), "--view", "mine", "--entity", "user"),
        ("topk", "-w", str(root), "--view", "mine", "--k", "10"),
        ("topk", "-w", str(root), "--view", "listed", "--from", str(lists)),
    ]
    for argv in ok:
        assert _run(argv) == 0, argv
    return root, files


def _run(argv) -> int:
    """The CLI in process, outside a test's capsys (the fixture is built once per module)."""
    from complement.cli.app import main

    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def ws(base, tmp_path):
    import shutil

    root, files = base
    copy = tmp_path / "ws"
    shutil.copytree(root, copy)
    return Workspace(copy), files


def test_each_view_has_the_kind_of_the_step_that_made_it(ws):
    workspace, _ = ws
    kinds = {view: view_kind(workspace, view)[0] for view in ("text", "pop", "score", "mine", "listed")}
    assert kinds == {"text": TEXT, "pop": TRAINED, "score": "fused", "mine": IMPORTED_VECTORS, "listed": IMPORTED_LISTS}
    assert view_kind(workspace, "nosuch") is None


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("complement embed --view text", TEXT),
        ("complement embed --from x.parquet --view t", IMPORTED_VECTORS),
        ("complement embed --from=x.parquet --view t", IMPORTED_VECTORS),
        ("complement train lightgcn --view x --epochs 3", TRAINED),
        ("complement fuse --views a,b --method rrf --view c", "fused"),
        ("complement topk --view x --from 'a b.tsv' --format tsv", IMPORTED_LISTS),
        ("complement topk --view x --k 10 --exclude train", None),  # lists from the view's own vectors
        ("complement synth", "truth"),
        ("", None),
        ("python something.py", None),
        ("complement embed --view 'unclosed", None),
    ],
)
def test_the_kind_comes_from_the_recorded_command(command, kind):
    assert kind_of_command(command) == kind


# (the view written, the command of another kind): each is refused and the workspace is unchanged
REFUSED = [
    ("text", ["train", "pop", "--view", "text", "--k", "10"], "text vectors", "a trained model"),
    (
        "text",
        ["fuse", "--views", "pop,pop2", "--method", "rrf", "--view", "text", "--k", "10"],
        "text vectors",
        "a fusion",
    ),
    ("pop", ["embed", "--view", "pop", "--device", "cpu"], "a trained model", "text vectors"),
    ("pop", ["embed", "--from", "{files}/items.parquet", "--view", "pop"], "a trained model", "imported vectors"),
    ("pop", ["fuse", "--views", "pop,pop2", "--method", "score", "--view", "pop"], "a trained model", "a fusion"),
    ("score", ["train", "pop", "--view", "score", "--k", "10"], "a fusion", "a trained model"),
    ("score", ["embed", "--view", "score", "--device", "cpu"], "a fusion", "text vectors"),
    ("listed", ["train", "pop", "--view", "listed", "--k", "10"], "imported lists", "a trained model"),
    ("listed", ["fuse", "--views", "pop,pop2", "--method", "rrf", "--view", "listed"], "imported lists", "a fusion"),
    ("listed", ["embed", "--from", "{files}/items.parquet", "--view", "listed"], "imported lists", "imported vectors"),
    # imported vectors with user vectors and lists: embed would keep the users and lists of other vectors
    ("mine", ["embed", "--view", "mine", "--device", "cpu"], "imported vectors", "text vectors"),
    ("mine", ["train", "pop", "--view", "mine", "--k", "10"], "imported vectors", "a trained model"),
]


@pytest.mark.parametrize(("view", "argv", "held", "writes"), REFUSED)
def test_a_step_of_another_kind_is_refused_and_writes_nothing(ws, capsys, view, argv, held, writes):
    workspace, files = ws
    before = snapshot(workspace.root)
    argv = [a.replace("{files}", str(files)) for a in argv]
    code, out, err = run_cli(capsys, *argv, "-w", str(workspace.root))
    assert code == 1 and out == ""
    line = err.strip()
    assert "\n" not in line and "Traceback" not in err
    assert line.startswith(f"Error: view '{view}' holds {held} (made by `complement ")
    assert f"writes {writes}: write it to another view (--view NAME), or remove '{view}' first with" in line
    assert line.endswith(f"`complement drop {view}`")
    assert snapshot(workspace.root) == before


def test_importing_lists_into_a_view_of_vectors_is_refused(ws, capsys):
    workspace, files = ws
    before = snapshot(workspace.root)
    code, _, err = run_cli(
        capsys, "topk", "-w", str(workspace.root), "--view", "pop", "--from", str(files / "lists.csv")
    )
    assert code == 1 and err.startswith("Error: view 'pop' holds a trained model (made by `complement train pop")
    assert snapshot(workspace.root) == before


def test_the_same_kind_rewrites_the_whole_view(ws, capsys):
    workspace, files = ws
    root = str(workspace.root)
    # a trained view retrained with another model
    assert (
        run_cli(capsys, "train", "mf", "-w", root, "--view", "pop", "--epochs", "1", "--dim", "8", "--k", "10")[0] == 0
    )
    assert view_kind(workspace, "pop") == (TRAINED, workspace.entry("topk", "pop").made_by)
    assert workspace.read_vectors("pop", "user")[1].shape[1] == 8
    # a fusion with vectors (concat) rewritten by one without: its vectors go
    assert (
        run_cli(capsys, "fuse", "-w", root, "--views", "mine,pop2", "--method", "concat", "--view", "f", "--k", "10")[0]
        == 0
    )
    assert "f" in workspace.parts("embeddings")
    code, _, err = run_cli(
        capsys, "fuse", "-w", root, "--views", "pop,pop2", "--method", "rrf", "--view", "f", "--k", "10"
    )
    assert code == 0, err
    assert "f" not in workspace.parts("embeddings") and "f" in workspace.parts("topk")
    # bring your own text vectors in place of the encoder's, and back
    assert run_cli(capsys, "embed", "-w", root, "--from", str(files / "items.parquet"))[0] == 0
    assert view_kind(workspace, "text")[0] == IMPORTED_VECTORS
    assert run_cli(capsys, "embed", "-w", root, "--device", "cpu")[0] == 0
    assert view_kind(workspace, "text")[0] == TEXT
    # imported lists re-imported
    assert run_cli(capsys, "topk", "-w", root, "--view", "listed", "--from", str(files / "lists.csv"))[0] == 0


def test_drop_removes_every_part_and_frees_the_name(ws, capsys):
    workspace, _ = ws
    root = str(workspace.root)
    assert run_cli(capsys, "neighbors", "-w", root, "--view", "pop", "--k", "5")[0] == 0
    assert "pop" in workspace.parts("neighbors")
    code, out, err = run_cli(capsys, "drop", "-w", root, "pop", "text")
    assert code == 0 and out == ""
    for table in ("embeddings", "topk", "neighbors"):
        assert "pop" not in workspace.parts(table)
    assert "text" not in workspace.parts("embeddings")
    rows = workspace.query("SELECT view, params FROM runs WHERE step = 'drop' ORDER BY view").to_pylist()
    assert rows == [
        {"view": "pop", "params": '{"tables": ["embeddings", "neighbors", "topk"]}'},
        {"view": "text", "params": '{"tables": ["embeddings"]}'},
    ]
    # what was made from a dropped view is stale, and the error says to make the view again first
    reason = workspace.stale("topk", "score")
    assert reason is not None and reason.gone and reason.changed == "embeddings/pop"
    code, _, err = run_cli(capsys, "diagnose", "-w", root, "--sql", "metrics", "--views", "score")
    assert code == 1 and "made from view 'pop', which is no longer in the workspace (dropped?): make it again" in err
    # the name now takes a view of another kind
    code, _, err = run_cli(capsys, "train", "pop", "-w", root, "--view", "text", "--k", "10")
    assert code == 0, err
    assert view_kind(workspace, "text")[0] == TRAINED


def test_drop_removes_staged_shards(ws, capsys):
    workspace, _ = ws
    root = str(workspace.root)
    assert run_cli(capsys, "topk", "-w", root, "--view", "mine", "--k", "5", "--shard", "1/3")[0] == 0
    assert any("mine" in key and "of3" in key for key in workspace.catalog().entries)
    assert run_cli(capsys, "drop", "-w", root, "mine")[0] == 0
    assert not any(key.endswith("/mine") or "/mine" in key for key in workspace.catalog().entries)


@pytest.mark.parametrize(
    ("views", "message"),
    [
        (["nosuch"], "Error: no view 'nosuch' in this workspace (views: "),
        (["pop", "nosuch"], "Error: no view 'nosuch' in this workspace"),
        (["pop", "pop"], "Error: a view is named twice: pop, pop"),
        (["truth_collab"], "Error: view 'truth_collab' cannot be dropped: names starting with 'truth_'"),
        (["Bad Name"], "Error: invalid view name 'Bad Name'"),
    ],
)
def test_drop_checks_every_name_before_it_removes_anything(ws, capsys, views, message):
    workspace, _ = ws
    before = snapshot(workspace.root)
    code, out, err = run_cli(capsys, "drop", "-w", str(workspace.root), *views)
    assert code == 1 and out == "" and err.startswith(message) and err.count("\n") == 1
    assert snapshot(workspace.root) == before


def test_drop_needs_a_workspace(tmp_path, capsys):
    code, _, err = run_cli(capsys, "drop", "-w", str(tmp_path / "none"), "x")
    assert code == 1 and "does not exist" in err


def test_the_library_verb(ws):
    workspace, _ = ws
    result = complement.drop(workspace.root, "score")
    assert result.step == "drop" and result.details["dropped"] == {"score": ["topk"]}
    assert "score" not in workspace.parts("topk")
    with pytest.raises(complement.ComplementError, match="no view 'score'"):
        complement.drop(workspace, ["score"])
