"""Bring your own recommender from Python: ``complement.topk(ws, view, source=FILE)`` imports another tool's
lists as a view and ``complement.export`` writes runs, qrels and the RecBole split, each returning a
``StepResult``. Both check every argument before anything is written, with the checks of the CLI's
``topk --from`` and ``export`` (which are thin layers over these verbs)."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

import complement
from complement.errors import ComplementError, ConfigError, WorkspaceError
from complement.steps import ExportOptions, ListImport, StepResult
from complement.workspace import Workspace

SYNTH = {"users": 40, "items": 30, "interactions_per_user": 8, "seed": 3}
K = 5


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A synthetic workspace with the truth view's top-5 lists (``truth_collab``), imported item vectors
    (``vecs``: a view of another kind than imported lists) and imported lists (``listed``)."""
    from complement.embed import import_vectors

    folder = tmp_path_factory.mktemp("byo")
    ws = complement.init(folder / "ws", "synthetic", **SYNTH).workspace
    complement.topk(ws, "truth_collab", k=K, device="cpu")
    rng = np.random.default_rng(0)
    ids = list(ws.item_ids())
    vectors = rng.normal(size=(len(ids), 4)).astype("float32").tolist()
    pq.write_table(pa.table({"id": ids, "vector": vectors}), folder / "items.parquet")
    import_vectors(ws, "vecs", folder / "items.parquet")
    (folder / "listed.csv").write_text("user,item\n" + "".join(f"{u},{ids[0]}\n" for u in ws.user_ids()))
    complement.topk(ws, "listed", source=folder / "listed.csv")
    return folder / "ws"


@pytest.fixture
def ws(base, tmp_path) -> Workspace:
    shutil.copytree(base, tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def lists_of(ws: Workspace, view: str) -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    query = "SELECT user_id, rank, item_id FROM topk WHERE view = $v ORDER BY user_id, rank"
    for row in ws.query(query, {"v": view}).to_pylist():
        out.setdefault(row["user_id"], []).append((row["rank"], row["item_id"]))
    return out


def snapshot(folder: Path) -> dict[str, str]:
    """Every file (by its hash) and folder under ``folder``; lock files aside (a read may leave one)."""
    return {
        str(p.relative_to(folder)): "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if ".locks" not in p.parts
    }


def pairs(ws: Workspace, split: str) -> list[tuple[str, str]]:
    table = ws.query(
        "SELECT DISTINCT user_id, item_id FROM interactions WHERE split = $s ORDER BY user_id, item_id", {"s": split}
    )
    return list(zip(table.column("user_id").to_pylist(), table.column("item_id").to_pylist(), strict=True))


@pytest.mark.parametrize(("suffix", "rank_from"), [("trec", "rank"), ("json", "score"), ("csv", "rank")])
def test_a_view_goes_out_and_comes_back_as_the_same_lists(ws, tmp_path, suffix, rank_from):
    original = lists_of(ws, "truth_collab")
    n_rows = sum(len(items) for items in original.values())
    out = tmp_path / f"run.{suffix}"

    exported = complement.export(ws, view="truth_collab", out=out)
    assert isinstance(exported, StepResult) and (exported.step, exported.view) == ("export", "truth_collab")
    assert exported.rows == n_rows > 0 and exported.details["path"] == str(out) and out.is_file()

    imported = complement.topk(str(ws.root), "copy", source=out)  # a folder works as well as a Workspace
    assert isinstance(imported, StepResult) and (imported.step, imported.view) == ("topk", "copy")
    assert imported.rows == n_rows
    assert imported.details["users"] == len(original) and imported.details["rank_from"] == rank_from
    assert imported.settings["source"] == str(out) and imported.settings["k"] == 100
    assert lists_of(ws, "copy") == original
    assert ws.is_list_view("copy")
    assert imported.table().to_pylist()[0]["rank_from"] == rank_from  # a notebook sees it in the summary row


def test_the_import_keywords_reach_the_reader(ws, tmp_path):
    """A headerless file, its columns given by position, another tool's ids translated by the id map, and a
    row of an unknown user dropped: the same file is refused without each of those keywords."""
    users, items = list(ws.user_ids())[:2], list(ws.item_ids())[:2]
    source = tmp_path / "lists.tsv"
    source.write_text(f"0.5\tX{items[0]}\tR0\n0.9\tX{items[1]}\tR0\n0.7\tX{items[0]}\tR1\n0.1\tX{items[0]}\tghost\n")
    id_map = tmp_path / "map.tsv"
    rows = [f"user\tR{n}\t{u}" for n, u in enumerate(users)] + [f"item\tX{i}\t{i}" for i in items]
    id_map.write_text("entity\tinternal_id\tid\n" + "\n".join(rows) + "\n")
    keywords = {"user_col": "3", "item_col": "2", "score_col": "1", "id_map": id_map, "drop_unknown": True}

    result = complement.topk(ws, "mapped", source=source, fmt="tsv", **keywords)
    assert (result.rows, result.details["users"], result.details["dropped_rows"]) == (3, 2, 1)
    assert result.details["rank_from"] == "score" and result.settings["id_map"] == str(id_map)
    assert lists_of(ws, "mapped") == {users[0]: [(1, items[1]), (2, items[0])], users[1]: [(1, items[0])]}
    defaults = {f.name: f.default for f in dataclasses.fields(ListImport)}
    for left_out in ("user_col", "id_map", "drop_unknown"):
        with pytest.raises(ComplementError):
            complement.topk(ws, "refused", source=source, fmt="tsv", **{**keywords, left_out: defaults[left_out]})
    assert "refused" not in ws.parts("topk")


def test_qrels_and_the_recbole_split_go_out_through_the_library(ws, tmp_path):
    test = complement.export(ws, qrels=True, out=tmp_path / "test.qrels")
    assert (test.step, test.view, test.rows, test.details["split"]) == ("export", None, len(pairs(ws, "test")), "test")
    assert (tmp_path / "test.qrels").read_text().splitlines() == [f"{u} 0 {i} 1" for u, i in pairs(ws, "test")]

    valid = complement.export(ws, qrels=True, split="valid", fmt="ranx", out=tmp_path / "valid.out")
    want: dict[str, dict[str, int]] = {}
    for u, i in pairs(ws, "valid"):
        want.setdefault(u, {})[i] = 1
    assert valid.rows == len(pairs(ws, "valid")) and valid.settings["split"] == "valid"
    assert json.loads((tmp_path / "valid.out").read_text()) == want

    folder = tmp_path / "bench"
    recbole = complement.export(ws, recbole=folder)
    files = recbole.details["files"]
    assert set(files) == {"bench.train.inter", "bench.valid.inter", "bench.test.inter", "bench.item"}
    assert recbole.details["path"] == str(folder) and recbole.rows == sum(files.values())
    n_train = ws.query("SELECT count(*) FROM interactions WHERE split = 'train'").column(0)[0].as_py()
    assert files["bench.train.inter"] == n_train
    assert len((folder / "bench.train.inter").read_text().splitlines()) == n_train + 1  # and the header


OUT = "{tmp}/out.trec"

# (keywords of complement.export, the error) — each is refused before a file is written
EXPORT_REFUSED = [
    ({}, r"^export takes exactly one of --view NAME, --qrels, --recbole DIR \(got: none\)$"),
    ({"view": "truth_collab", "qrels": True, "out": OUT}, r"exactly one of .*\(got: --view, --qrels\)$"),
    ({"view": "truth_collab", "recbole": "{tmp}/rb"}, r"exactly one of .*\(got: --view, --recbole\)$"),
    ({"qrels": True, "recbole": "{tmp}/rb"}, r"exactly one of .*\(got: --qrels, --recbole\)$"),
    ({"view": "truth_collab", "split": "test", "out": OUT}, r"^--split applies to --qrels only, not to --view$"),
    ({"recbole": "{tmp}/rb", "split": "train"}, r"^--split applies to --qrels only, not to --recbole$"),
    ({"view": "truth_collab"}, r"^--view needs --out FILE$"),
    ({"qrels": True, "split": "valid"}, r"^--qrels needs --out FILE$"),
    ({"recbole": "{tmp}/rb", "out": OUT}, r"^--recbole DIR writes its own files; it takes no --out or --format$"),
    ({"recbole": "{tmp}/rb", "fmt": "trec"}, r"takes no --out or --format$"),
    ({"qrels": True, "split": "tset", "out": OUT}, r"^--split: unknown split 'tset'.*test"),
    ({"qrels": "yes", "out": OUT}, r"^qrels is True or False, not 'yes'$"),
    ({"view": "truth_collab", "fmt": "trek", "out": OUT}, r"unknown format 'trek'"),
    ({"view": "nosuch", "out": OUT}, r"view 'nosuch' is not in the 'topk' table"),
    # keywords of the wrong type: one line, not a TypeError from inside
    ({"view": 1, "out": OUT}, r"^complement\.export\(\): view must be a str, not 1$"),
    ({"view": "truth_collab", "out": 1}, r"^complement\.export\(\): out must be a str or a path, not 1$"),
    ({"view": "truth_collab", "fmt": 1, "out": OUT}, r"^complement\.export\(\): fmt must be a str, not 1$"),
    ({"recbole": 1}, r"^complement\.export\(\): recbole must be a str or a path, not 1$"),
]


@pytest.mark.parametrize(("keywords", "error"), EXPORT_REFUSED)
def test_export_refuses_bad_arguments_and_writes_nothing(ws, tmp_path, keywords, error):
    given = {key: value.format(tmp=tmp_path) if isinstance(value, str) else value for key, value in keywords.items()}
    before = snapshot(tmp_path)
    with pytest.raises(ComplementError, match=error):
        complement.export(ws, **given)
    assert snapshot(tmp_path) == before


# (view, keywords of complement.topk, the error class, the error) — each is refused before anything is written
TOPK_REFUSED = [
    ("mine", {"source": "{lists}", "shard": "1/2"}, ConfigError, r"^--shard applies to scoring vectors, not with "),
    ("mine", {"source": "{lists}", "device": "cpu"}, ConfigError, r"^--device applies to scoring vectors, not with "),
    ("truth_collab", {"user_col": "u"}, ConfigError, r"^--user-col only apply with --from FILE$"),
    (
        "truth_collab",
        {"fmt": "csv", "id_map": "m.tsv", "drop_unknown": True},
        ConfigError,
        r"^--format, --id-map, --drop-unknown only apply with --from FILE$",
    ),
    ("vecs", {"source": "{lists}"}, ConfigError, r"^view 'vecs' holds imported vectors .*`complement drop vecs`"),
    ("truth_collab", {"source": "{lists}"}, ComplementError, r"^view 'truth_collab' cannot be written: .*reserved"),
    ("Bad Name", {"source": "{lists}"}, ComplementError, r"^invalid view name 'Bad Name'"),
    ("mine", {"source": "{lists}", "k": 0}, ConfigError, r"^--k must be at least 1, not 0$"),
    ("mine", {"source": "{tmp}/nosuch.csv"}, ComplementError, r"nosuch\.csv does not exist"),
    ("mine", {"source": "{lists}", "fmt": "trek"}, ConfigError, r"unknown format 'trek'"),
    ("listed", {}, WorkspaceError, r"^view 'listed' is a list view .*it has no vectors to score; re-import it"),
    ("mine", {"source": "{lists}", "drop_unknown": "False"}, ConfigError, r"drop_unknown must be a bool, not 'False'"),
    ("mine", {"source": "{lists}", "drop_unknown": 1}, ConfigError, r"drop_unknown must be a bool, not 1$"),
    ("mine", {"source": 1}, ConfigError, r"^complement\.topk\(\): source must be a str or a path, not 1$"),
    ("mine", {"source": "{lists}", "user_col": 1}, ConfigError, r"user_col must be a str, not 1$"),
]


@pytest.mark.parametrize(("view", "keywords", "kind", "error"), TOPK_REFUSED)
def test_topk_refuses_bad_arguments_and_writes_nothing(ws, tmp_path, view, keywords, kind, error):
    lists = tmp_path / "lists.csv"
    lists.write_text("user,item\n" + "".join(f"{u},{ws.item_ids()[0]}\n" for u in ws.user_ids()))
    given = {
        key: value.format(tmp=tmp_path, lists=lists) if isinstance(value, str) else value
        for key, value in keywords.items()
    }
    before = snapshot(tmp_path)
    with pytest.raises(kind, match=error):
        complement.topk(ws, view, **given)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("argv", "call"),
    [
        (["export", "--view", "truth_collab", "--qrels", "--out", "x.trec"], "export"),
        (["export", "--recbole", "rb", "--split", "test"], "export"),
        (["export", "--qrels"], "export"),
        (["topk", "--view", "truth_collab", "--rank-col", "r"], "topk"),
        (["topk", "--view", "vecs", "--from", "{lists}"], "topk"),
    ],
)
def test_the_cli_says_what_the_library_raises(ws, tmp_path, capsys, argv, call):
    """The commands are thin layers over the verbs: the same arguments give the same one line."""
    lists = tmp_path / "lists.csv"
    lists.write_text(f"user,item\n{ws.user_ids()[0]},{ws.item_ids()[0]}\n")
    argv = [arg.format(lists=lists) for arg in argv]
    code, out, err = run_cli(capsys, argv[0], "-w", str(ws.root), *argv[1:])
    if call == "export":
        flags = {"--view": "view", "--out": "out", "--recbole": "recbole", "--split": "split"}
        given: dict = {flags[a]: b for a, b in itertools.pairwise(argv) if a in flags}
        given |= {"qrels": True} if "--qrels" in argv else {}
        with pytest.raises(ComplementError) as raised:
            complement.export(ws, **given)
    else:
        view = argv[argv.index("--view") + 1]
        extra = {"rank_col": "r"} if "--rank-col" in argv else {"source": lists}
        with pytest.raises(ComplementError) as raised:
            complement.topk(ws, view, **extra)
    assert (code, out) == (1, "") and err == f"Error: {raised.value}\n"


def test_the_verbs_take_the_declared_keywords_with_the_declared_defaults():
    """ListImport and ExportOptions declare the CLI flags; the verbs' keywords must be those fields, with the
    same defaults, or a flag would reach the verb under another name (or not at all)."""
    for verb, cls in ((complement.topk, ListImport), (complement.export, ExportOptions)):
        parameters = inspect.signature(verb).parameters
        keyword_only = {n: p.default for n, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
        declared = {f.name: f.default for f in dataclasses.fields(cls)}
        assert {n: keyword_only.get(n, "missing") for n in declared} == declared, verb.__name__
    export_keywords = [n for n, p in inspect.signature(complement.export).parameters.items() if n != "ws"]
    assert export_keywords == [f.name for f in dataclasses.fields(ExportOptions)]


def test_a_workspace_that_is_not_a_folder_name_is_one_line():
    for verb in (lambda: complement.topk(None, "x"), lambda: complement.export(3, qrels=True, out="q.trec")):
        with pytest.raises(ConfigError, match=r"^the workspace is a Workspace or its folder \(a str or a path\), not"):
            verb()
