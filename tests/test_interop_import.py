"""``complement topk --from``: ranked lists made elsewhere become a list view, after the whole file is
checked; bad input gives one line and leaves the workspace unchanged."""

from __future__ import annotations

import hashlib
import json
import shlex

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import reference_metrics as ref
from conftest import run_cli

import complement
from complement import interop
from complement.workspace import Workspace

ITEMS = ["i1", "i2", "i3", "i4", "i5", "i6"]
USERS = ["u1", "u2", "u3"]
# u1: train i1, test i2 i3; u2: train i2, test i4; u3: train i3 i4, test i6
INTERACTIONS = [
    ("u1", "i1", "train"),
    ("u1", "i2", "test"),
    ("u1", "i3", "test"),
    ("u2", "i2", "train"),
    ("u2", "i4", "test"),
    ("u3", "i3", "train"),
    ("u3", "i4", "train"),
    ("u3", "i6", "test"),
]


def make_ws(path) -> Workspace:
    n_train = {i: sum(1 for _, j, s in INTERACTIONS if j == i and s == "train") for i in ITEMS}
    case = {
        "items": ITEMS,
        "users": USERS,
        "interactions": INTERACTIONS,
        "lists": {},
        "neighbors": {},
        "item_n_train": n_train,
        "user_n_train": {u: sum(1 for v, _, s in INTERACTIONS if v == u and s == "train") for u in USERS},
        "group_of": ref.pop_groups(n_train),
    }
    return ref.write_case(path / "ws", case)


def fingerprint(ws: Workspace) -> dict[str, str]:
    return {
        str(p.relative_to(ws.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(ws.root.rglob("*"))
        if p.is_file()
    }


def lists_of(ws: Workspace, view: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in ws.query(
        "SELECT user_id, item_id FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}
    ).to_pylist():
        out.setdefault(row["user_id"], []).append(row["item_id"])
    return out


def truth() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for u, i, s in INTERACTIONS:
        if s == "test":
            out.setdefault(u, set()).add(i)
    return out


def test_trec_run_written_by_hand_imports_with_its_ranks_and_known_metrics(tmp_path, capsys):
    ws = make_ws(tmp_path)
    run = tmp_path / "mine.trec"
    # lines out of order on purpose; the rank column decides the order
    run.write_text(
        "u1 Q0 i3 2 0.5 bpr\nu1 Q0 i2 1 0.9 bpr\nu1 Q0 i5 3 0.1 bpr\n"
        "u2 Q0 i5 1 2.0 bpr\nu2 Q0 i4 2 1.0 bpr\nu3 Q0 i1 1 3.0 bpr\n"
    )
    code, out, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine", "--from", str(run))
    assert code == 0, err
    assert out == ""
    assert lists_of(ws, "mine") == {"u1": ["i2", "i3", "i5"], "u2": ["i5", "i4"], "u3": ["i1"]}
    got = complement.diagnose(ws, "metrics", k=2).to_pylist()[0]
    # by hand at k=2: u1 hits i2@1,i3@2 -> recall 1, ndcg 1, rr 1; u2 hits i4@2 -> recall 1,
    # ndcg (1/log2 3)/1, rr 1/2; u3 no hit
    assert got["recall"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-12)
    assert got["ndcg"] == pytest.approx((1 + 1 / ref.math.log2(3) + 0) / 3, abs=1e-12)
    assert got["mrr"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-12)
    scores = (
        ws.query("SELECT score FROM topk WHERE view = 'mine' AND user_id = 'u2' ORDER BY rank").column(0).to_pylist()
    )
    assert scores == [2.0, 1.0]
    step = ws.query("SELECT step FROM runs WHERE view = 'mine'").column(0).to_pylist()
    assert step == ["import-topk"]


def test_ranx_json_ranks_come_from_scores_with_ties_in_file_order(tmp_path):
    ws = make_ws(tmp_path)
    run = tmp_path / "fused.json"
    run.write_text(json.dumps({"u1": {"i5": 0.2, "i3": 0.7, "i2": 0.7}, "u2": {"i1": 1, "i6": 3}}))
    interop.import_topk(ws, run, "fused")
    assert lists_of(ws, "fused") == {"u1": ["i3", "i2", "i5"], "u2": ["i6", "i1"]}


@pytest.mark.parametrize(
    ("run", "notes"),
    [
        ({"u1": {"i2": 0.9, "i5": 0.1}, "u2": {"i4": 2.0}, "u3": {"i1": 3.0}}, []),  # every user listed
        ({"u1": {"i2": 0.9}}, ["2 users of the 3 with test items have no list in run.json"]),
        ({"u1": {"i2": 0.9}, "u2": {"i4": 1.0}}, ["1 user of the 3 with test items has no list in run.json"]),
        (  # a ranx qrels file: every score is a relevance label of 1
            {"u1": {"i2": 1, "i3": 1}, "u2": {"i4": 1}, "u3": {"i6": 1}},
            ["every score in run.json is 1, so the ranks are the file's order; a qrels file"],
        ),
        (  # one item per user, all scored 1: the qrels of a leave-one-out split
            {"u1": {"i2": 1}, "u2": {"i4": 1}, "u3": {"i6": 1}},
            ["every list in run.json holds one item, each scored 1; a qrels file"],
        ),
        ({"u1": {"i2": 0.5}, "u2": {"i4": 0.7}, "u3": {"i6": 0.2}}, []),  # one item per user, scores that differ
    ],
)
def test_an_import_says_which_test_users_it_lacks_and_when_its_scores_order_nothing(
    tmp_path, capsys, monkeypatch, run, notes
):
    monkeypatch.delenv("COMPLEMENT_QUIET")
    ws = make_ws(tmp_path)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    capsys.readouterr()
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine", "--from", str(path))
    assert code == 0, err
    said = [line for line in err.splitlines() if line.startswith("import: ")]
    assert len(said) == len(notes) and all(note in line for note, line in zip(notes, said, strict=True)), err


def test_lenskit_csv_elliot_headerless_tsv_and_parquet_with_named_columns(tmp_path):
    ws = make_ws(tmp_path)
    lenskit = tmp_path / "recs.csv"
    lenskit.write_text("user,item,score,rank\nu1,i4,0.3,2\nu1,i2,0.8,1\nu2,i1,0.5,1\n")
    interop.import_topk(ws, lenskit, "lenskit")
    assert lists_of(ws, "lenskit") == {"u1": ["i2", "i4"], "u2": ["i1"]}
    elliot = tmp_path / "recs.tsv"
    elliot.write_text("u3\ti1\t0.1\nu3\ti6\t0.9\nu1\ti5\t0.4\n")
    interop.import_topk(ws, elliot, "elliot")
    assert lists_of(ws, "elliot") == {"u1": ["i5"], "u3": ["i6", "i1"]}
    table = pa.table({"uid_x": [1, 1, 2], "movie": ["i3", "i1", "i4"], "pos": [2, 1, 1]})
    pq.write_table(table, tmp_path / "recs.parquet")
    mapping = tmp_path / "map.tsv"
    mapping.write_text("entity\tinternal_id\tid\nuser\t1\tu1\nuser\t2\tu3\n")
    interop.import_topk(
        ws,
        tmp_path / "recs.parquet",
        "mapped",
        id_map=mapping,
        columns=interop.Columns(user="uid_x", item="movie", rank="pos"),
    )
    assert lists_of(ws, "mapped") == {"u1": ["i1", "i3"], "u3": ["i4"]}
    assert ws.query("SELECT count(*) FROM topk WHERE view = 'mapped' AND score IS NULL").column(0)[0].as_py() == 3


def test_recbole_integer_ids_map_back_through_id_map(tmp_path, capsys):
    ws = make_ws(tmp_path)
    run = tmp_path / "recbole.csv"
    run.write_text("user_id,item_id,score\n1,4,0.9\n1,3,0.5\n2,6,0.7\n")
    mapping = tmp_path / "ids.tsv"
    mapping.write_text("entity\tinternal_id\tid\nuser\t1\tu1\nuser\t2\tu3\nitem\t3\ti3\nitem\t4\ti2\nitem\t6\ti6\n")
    code, _, err = run_cli(
        capsys, "topk", "-w", str(ws.root), "--view", "rb", "--from", str(run), "--id-map", str(mapping)
    )
    assert code == 0, err
    assert lists_of(ws, "rb") == {"u1": ["i2", "i3"], "u3": ["i6"]}

    # the recorded command imports the same lists again: every option that changes what is read or kept
    made_by = ws.entry("topk", "rb").made_by
    assert made_by == f"complement topk --view rb --from {run} --format csv --id-map {mapping}"


def test_the_recorded_import_command_names_every_option_given(tmp_path, capsys):
    ws = make_ws(tmp_path)
    run = tmp_path / "my run.tsv"
    run.write_text("who\twhat\tpos\nu1\ti2\t1\nu2\ti4\t1\nu9\ti4\t1\n")
    argv = ["--view", "x", "--from", str(run), "--user-col", "who", "--item-col", "what", "--rank-col", "pos"]
    argv += ["--drop-unknown", "--k", "50", "--exclude", "train"]
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), *argv)
    assert code == 0, err
    made_by = ws.entry("topk", "x").made_by
    assert made_by == (
        f"complement topk --view x --from '{run}' --format tsv --user-col who --item-col what --rank-col pos "
        "--drop-unknown --k 50 --exclude train"
    )
    # run again as recorded (in a copy), it writes the same lists
    import shutil

    shutil.copytree(ws.root, tmp_path / "again")
    again = Workspace(tmp_path / "again")
    code, _, err = run_cli(capsys, *shlex.split(made_by)[1:], "-w", str(again.root))
    assert code == 0, err
    assert lists_of(again, "x") == lists_of(ws, "x") == {"u1": ["i2"], "u2": ["i4"]}


BAD_INPUTS = {
    "unknown user": ("u1 Q0 i2 1 1 x\nnobody Q0 i2 1 1 x\n", "1 unknown user (e.g. 'nobody')"),
    "unknown item": ("u1 Q0 i2 1 1 x\nu1 Q0 i99 2 0 x\nu2 Q0 i98 1 0 x\n", "2 unknown items (e.g. 'i98', 'i99')"),
    "duplicate pair": ("u1 Q0 i2 1 1 x\nu1 Q0 i2 2 0 x\n", "1 duplicate (user, item) pair (e.g. 'u1'/'i2')"),
    "ranks from 0": ("u1 Q0 i2 0 1 x\nu1 Q0 i3 1 0 x\n", "1 user whose ranks are not 1..n (e.g. 'u1'/'[0, 1]')"),
    "repeated rank": ("u2 Q0 i2 1 1 x\nu2 Q0 i3 1 0 x\n", "1 user whose ranks are not 1..n (e.g. 'u2'/'[1, 1]')"),
    "too long": (
        "u1 Q0 i2 1 3 x\nu1 Q0 i3 2 2 x\nu1 Q0 i4 3 1 x\n",
        "1 list longer than 2 items (longest: 3, user 'u1'",
    ),
    "empty file": ("", "no lists in the file"),
    "bad line": ("u1 Q0 i2 1 1\n", "line 1 has 5 fields; a TREC run line is 'qid Q0 docno rank score tag'"),
    "qrels line": (
        "u1 0 i2 1\n",
        "line 1 has 4 fields; a TREC run line is 'qid Q0 docno rank score tag', and 4 fields "
        "('qid 0 docno relevance') is a qrels line: the ground truth, not a run",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_leaves_the_workspace_unchanged(tmp_path, capsys, case):
    ws = make_ws(tmp_path)
    interop.import_topk(ws, _write(tmp_path / "ok.trec", "u1 Q0 i2 1 1 x\n"), "mine")
    before = fingerprint(ws)
    text, expected = BAD_INPUTS[case]
    run = _write(tmp_path / "bad.trec", text)
    code, out, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine", "--from", str(run), "--k", "2")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("Error: ") and expected in err, err
    assert fingerprint(ws) == before


def test_drop_unknown_drops_and_reports_and_renumbers_ranks(tmp_path, capsys):
    ws = make_ws(tmp_path)
    run = _write(tmp_path / "r.trec", "u1 Q0 i2 1 3 x\nu1 Q0 zz 2 2 x\nu1 Q0 i3 3 1 x\nghost Q0 i1 1 1 x\n")
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine", "--from", str(run), "--drop-unknown")
    assert code == 0, err
    assert lists_of(ws, "mine") == {"u1": ["i2", "i3"]}
    assert ws.query("SELECT rank FROM topk WHERE view = 'mine' ORDER BY rank").column(0).to_pylist() == [1, 2]
    metrics = json.loads(ws.query("SELECT metrics FROM runs WHERE view = 'mine'").column(0)[0].as_py())
    assert metrics["dropped_rows"] == 2


def test_masked_items_are_imported_reported_and_named_by_check_no_seen_items(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COMPLEMENT_QUIET")
    ws = make_ws(tmp_path)
    run = _write(tmp_path / "r.trec", "u1 Q0 i1 1 3 x\nu1 Q0 i2 2 2 x\nu3 Q0 i4 1 1 x\n")  # i1, i4: train items
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "leaky", "--from", str(run))
    assert code == 0
    assert "2 listed items are masked (train+valid) interactions" in err  # the default masking
    rows = complement.diagnose(ws, "check_no_seen_items").to_pylist()
    assert [(r["view"], r["user_id"], r["item_id"]) for r in rows] == [("leaky", "u1", "i1"), ("leaky", "u3", "i4")]
    named = " ".join(err.split()).split("`")[1]  # the command the message names runs as it is
    assert named.startswith("complement diagnose --sql check_no_seen_items"), named
    code, out, _ = run_cli(capsys, *shlex.split(named)[1:])
    assert code != 0 and out.count("leaky") == 2, out


def test_import_removes_the_views_old_vectors(tmp_path):
    import numpy as np

    ws = make_ws(tmp_path)
    ws.write_vectors("mine", "item", ITEMS, np.ones((len(ITEMS), 2)))
    interop.import_topk(ws, _write(tmp_path / "r.trec", "u1 Q0 i2 1 1 x\n"), "mine")
    assert "mine" not in ws.parts("embeddings")
    assert "mine" in ws.parts("topk")


def test_mapping_options_without_from_are_refused(tmp_path, capsys):
    ws = make_ws(tmp_path)
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "x", "--user-col", "u")
    assert code == 1 and "--user-col only apply with --from FILE" in err


def test_unknown_format_and_unguessable_extension_are_one_line(tmp_path, capsys):
    ws = make_ws(tmp_path)
    path = _write(tmp_path / "r.dat", "u1 Q0 i2 1 1 x\n")
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "x", "--from", str(path))
    assert code == 1 and "pass --format" in err
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "x", "--from", str(path), "--format", "trek")
    assert code == 1 and "did you mean 'trec'" in err


def _write(path, text: str):
    path.write_text(text)
    return path


def test_recomputing_an_imported_list_view_says_it_has_no_vectors(tmp_path, capsys):
    ws = make_ws(tmp_path)
    interop.import_topk(ws, _write(tmp_path / "r.trec", "u1 Q0 i2 1 1 x\n"), "mine")
    before = fingerprint(ws)
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "mine")
    assert code == 1 and "is a list view" in err and "no vectors" in err
    assert fingerprint(ws) == before


def test_probing_an_imported_list_view_says_it_has_no_vectors(tmp_path, capsys):
    ws = make_ws(tmp_path)
    interop.import_topk(ws, _write(tmp_path / "r.trec", "u1 Q0 i2 1 1 x\n"), "mine")
    before = fingerprint(ws)
    code, _, err = run_cli(capsys, "probe", "-w", str(ws.root), "--source", "mine", "--target", "mine2", "--k", "2")
    assert code == 1 and err.count("\n") == 1
    assert "view 'mine' is a list view" in err and "no item vectors" in err
    assert fingerprint(ws) == before


def test_every_list_diagnostic_runs_on_imported_views(tmp_path):
    from complement.diagnostics.headers import list_diagnostics

    ws = make_ws(tmp_path)
    for view, text in (
        ("a", "u1 Q0 i2 1 3 x\nu1 Q0 i4 2 2 x\nu2 Q0 i4 1 1 x\n"),
        ("b", "u1 Q0 i3 1 1 x\nu2 Q0 i4 1 1 x\n"),
        ("c", "u1 Q0 i2 1 1 x\nu3 Q0 i6 1 1 x\n"),
    ):
        interop.import_topk(ws, _write(tmp_path / f"{view}.trec", text), view)
    ran = []
    for diagnostic in list_diagnostics():
        if not {"topk"} <= set(diagnostic.requires) or set(diagnostic.requires) & {
            "neighbors",
            "embeddings",
            "probes",
            "runs",
        }:
            continue
        declared = {p.name for p in diagnostic.params}
        params = {"view_a": "a", "view_b": "b"} if {"view_a", "view_b"} <= declared else {}
        table = complement.diagnose(ws, diagnostic.name, **params)
        if diagnostic.name == "case_study":  # it lists the users only one view hits: here, as many as there are
            groups = {
                r["user_group"]: r["n_users"]
                for r in complement.diagnose(ws, "user_complementarity", **params).to_pylist()
            }
            one_view = groups.get("a_only", 0) + groups.get("b_only", 0)
            assert len(set(table.column("user_id").to_pylist())) == min(one_view, 3 * 2), diagnostic.name
        else:
            assert table.num_rows > 0 or diagnostic.is_check, diagnostic.name
        ran.append(diagnostic.name)
    assert {
        "metrics",
        "overlap",
        "unique_hits",
        "oracle",
        "rbo",
        "rank_correlation",
        "popularity_bias",
        "multi_view",
    } <= set(ran)
