"""``complement export``: run files that import back identically, qrels, the RecBole split, and
refusal to write inside the workspace's tables/ or onto complement.toml."""

from __future__ import annotations

import itertools
import json

import pytest
from conftest import run_cli
from test_interop_import import INTERACTIONS, fingerprint, lists_of, make_ws

import complement
from complement import interop


def with_view(tmp_path, scores=(0.9, 0.5, 0.1)):
    ws = make_ws(tmp_path)
    lines = [f"u1 Q0 i{j} {r} {s} x" for r, (j, s) in enumerate(zip((2, 3, 5), scores, strict=True), start=1)]
    lines += ["u2 Q0 i4 1 0.7 x", "u3 Q0 i6 1 0.3 x", "u3 Q0 i1 2 0.2 x"]
    (tmp_path / "in.trec").write_text("\n".join(lines) + "\n")
    interop.import_topk(ws, tmp_path / "in.trec", "orig")
    return ws


@pytest.mark.parametrize("suffix", ["trec", "json", "csv", "tsv", "parquet"])
def test_export_then_import_under_another_name_gives_jaccard_one_and_identical_metrics(tmp_path, capsys, suffix):
    ws = with_view(tmp_path)
    out = tmp_path / f"run.{suffix}"
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--view", "orig", "--out", str(out))
    assert code == 0, err
    code, _, err = run_cli(capsys, "topk", "-w", str(ws.root), "--view", "copy", "--from", str(out))
    assert code == 0, err
    assert lists_of(ws, "copy") == lists_of(ws, "orig")
    overlap = {
        r["statistic"]: r for r in complement.diagnose(ws, "overlap", view_a="orig", view_b="copy", k=3).to_pylist()
    }
    assert overlap["jaccard"]["mean"] == 1.0
    metrics = {r["view"]: r for r in complement.diagnose(ws, "metrics", k=3).to_pylist()}
    assert {k: v for k, v in metrics["orig"].items() if k != "view"} == {
        k: v for k, v in metrics["copy"].items() if k != "view"
    }


def test_trec_export_writes_six_columns_and_breaks_score_ties_by_one_float32_step(tmp_path):
    import numpy as np

    ws = with_view(tmp_path)
    interop.export_view(ws, "orig", tmp_path / "a.trec")
    assert (tmp_path / "a.trec").read_text().splitlines()[0] == "u1 Q0 i2 1 0.9 orig"
    # 0.5 + 1e-12 differs from 0.5 in float64 only: trec_eval's 32-bit floats would tie them
    ws = with_view(tmp_path / "tied", scores=(0.5 + 1e-12, 0.5, 0.5))
    interop.export_view(ws, "orig", tmp_path / "b.trec")
    below = np.nextafter(np.float32(0.5), np.float32(-np.inf))
    want = [0.5 + 1e-12, float(below), float(np.nextafter(below, np.float32(-np.inf)))]
    assert [float(line.split()[4]) for line in (tmp_path / "b.trec").read_text().splitlines()[:3]] == want


def test_a_view_without_scores_exports_one_over_rank(tmp_path):
    ws = with_view(tmp_path)
    (tmp_path / "r.csv").write_text("user,item\nu1,i4\nu1,i2\n")
    interop.import_topk(ws, tmp_path / "r.csv", "ranked")
    interop.export_view(ws, "ranked", tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == {"u1": {"i4": 1.0, "i2": 0.5}}


def test_qrels_are_the_distinct_test_pairs_in_trec_and_ranx(tmp_path, capsys):
    ws = make_ws(tmp_path)
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--qrels", "--out", str(tmp_path / "q.trec"))
    assert code == 0, err
    expected = sorted(f"{u} 0 {i} 1" for u, i, s in INTERACTIONS if s == "test")
    assert (tmp_path / "q.trec").read_text().splitlines() == expected
    interop.export_qrels(ws, tmp_path / "q.json", split="train")
    want: dict = {}
    for u, i, s in INTERACTIONS:
        if s == "train":
            want.setdefault(u, {})[i] = 1
    assert json.loads((tmp_path / "q.json").read_text()) == want


def test_a_qrels_file_named_dot_qrels_is_trec_but_a_run_named_so_is_not_guessed(tmp_path, capsys):
    # README's `complement export --qrels --out test.qrels`: the usual qrels name means TREC qrels; a run file
    # (export --view, topk --from) with that extension is not a TREC run, so its format is still asked for
    ws = make_ws(tmp_path)
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--qrels", "--out", str(tmp_path / "test.qrels"))
    assert code == 0, err
    assert (tmp_path / "test.qrels").read_text().splitlines() == sorted(
        f"{u} 0 {i} 1" for u, i, s in INTERACTIONS if s == "test"
    )
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--view", "a", "--out", str(tmp_path / "a.qrels"))
    assert code == 1 and "cannot tell the format of 'a.qrels'" in err


def test_recbole_export_writes_the_exact_split_and_item_text(tmp_path, capsys):
    ws = make_ws(tmp_path)
    folder = tmp_path / "out" / "mini"
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--recbole", str(folder))
    assert code == 0, err
    for split in ("train", "valid", "test"):
        lines = (folder / f"mini.{split}.inter").read_text().splitlines()
        assert lines[0] == "user_id:token\titem_id:token"  # the fixture has no ratings or timestamps
        assert sorted(tuple(line.split("\t")) for line in lines[1:]) == sorted(
            (u, i) for u, i, s in INTERACTIONS if s == split
        )
    items = (folder / "mini.item").read_text().splitlines()
    assert items[0] == "item_id:token\ttitle:token_seq\ttext:token_seq"
    assert items[1] == "i1\ti1\ti1"


def test_recbole_export_orders_repeats_of_one_instant_by_rating(tmp_path, capsys):
    """Kept repeats of (user, item) at the same timestamp with different ratings come out by rating, not in whatever
    order the sort left them: rows sorted by (user, time, item) alone tie there."""
    import random

    rng = random.Random(0)
    rows = ["user_id,item_id,rating,timestamp"] + [
        f"u{u},i{rng.randint(0, 20)},{rng.choice([1, 5])},{rng.randint(0, 3)}" for u in range(30) for _ in range(8)
    ]
    (tmp_path / "inter.csv").write_text("\n".join(rows) + "\n")
    ws = tmp_path / "ws"
    data = ["--dataset", "csv", "--path", str(tmp_path / "inter.csv"), "--keep-repeats"]
    code, _, err = run_cli(capsys, "init", str(ws), *data, "--time-col", "timestamp", "--rating-col", "rating")
    assert code == 0, err
    code, _, err = run_cli(capsys, "export", "-w", str(ws), "--recbole", str(tmp_path / "out" / "rb"))
    assert code == 0, err
    ties = 0
    for split in ("train", "valid", "test"):
        lines = (tmp_path / "out" / "rb" / f"rb.{split}.inter").read_text().splitlines()
        assert lines[0] == "user_id:token\titem_id:token\trating:float\ttimestamp:float"
        keys = [(u, float(t), i, float(r)) for u, i, r, t in (line.split("\t") for line in lines[1:])]
        assert keys == sorted(keys)  # (user, time, item, rating)
        ties += sum(1 for a, b in itertools.pairwise(keys) if a[:3] == b[:3] and a[3] != b[3])
    assert ties >= 3  # the case is there: repeats of one instant with different ratings


@pytest.mark.parametrize("target", ["tables/topk/x.trec", "tables/../tables/y.trec", "complement.toml", "link/z.trec"])
def test_export_refuses_paths_inside_tables_or_onto_the_config(tmp_path, capsys, target):
    ws = with_view(tmp_path)
    (ws.root / "complement.toml").write_text("")
    (ws.root / "link").symlink_to(ws.root / "tables")
    before = fingerprint(ws)
    code, out, err = run_cli(
        capsys, "export", "-w", str(ws.root), "--view", "orig", "--format", "trec", "--out", str(ws.root / target)
    )
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "tables" in err or "complement.toml" in err
    assert fingerprint(ws) == before


def test_export_needs_exactly_one_of_view_qrels_recbole(tmp_path, capsys):
    ws = make_ws(tmp_path)
    code, _, err = run_cli(
        capsys, "export", "-w", str(ws.root), "--qrels", "--view", "a", "--out", str(tmp_path / "x.trec")
    )
    assert code == 1 and "exactly one of" in err
    code, _, err = run_cli(capsys, "export", "-w", str(ws.root), "--view", "nope", "--out", str(tmp_path / "x.trec"))
    assert code == 1 and "no 'topk' table" in err
