"""benchmarks/recount_share.py (plain Python over the workspace's Parquet files) gives fusion_gap's numbers:
the independent recount the fusion results are checked with."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import synthetic_with_random_views

from complement import diagnose, fuse

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "recount_share.py"


def _module():
    spec = importlib.util.spec_from_file_location("recount_share", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("recount") / "ws"
    ws = synthetic_with_random_views(
        root, ["a", "b", "c"], dim=6, lists_k=30, users=80, items=50, interactions_per_user=8, seed=4
    )
    fuse(ws, ["a", "b"], method="rrf", view="f", k=30)
    # a user without a list in one view: no hits there, still evaluated
    first = ws.user_ids()[0]
    table = ws.read_table("topk", part="c")
    keep = [u != first for u in table.column("user_id").to_pylist()]
    ws.write_table("topk", table.filter(keep), part="c")
    return ws


@pytest.mark.parametrize("k", [5, 20])
def test_the_recount_equals_fusion_gap(ws, k):
    recounted = _module().recount(ws.root, "a", "b", ["f", "c", "a"], k=k)
    rows = {
        row["view"]: row
        for row in diagnose(ws, "fusion_gap", view_a="a", view_b="b", k=k, views=["f", "c"]).to_pylist()
        if row["pop_group"] == "all"
    }
    assert set(rows) == {"f", "c"}
    for view, row in rows.items():
        mine = recounted[view]
        assert mine["recall"] == pytest.approx(row["recall"], abs=1e-12)
        assert mine["best_single"] == pytest.approx(row["best_single"], abs=1e-12)
        assert mine["union_at_k"] == pytest.approx(row["union_at_k"], abs=1e-12)
        assert mine["share"] == pytest.approx(row["share_of_union_at_k_gain"], abs=1e-12)
    assert recounted["a"]["recall"] <= recounted["a"]["best_single"]  # a source view is never above the bound


def test_the_script_prints_one_row_per_method(ws):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "-w", str(ws.root), "--pair", "a,b", "--methods", "f,c"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "view,recall,best_single,union_at_k,share"
    assert [line.split(",")[0] for line in lines[1:]] == ["f", "c"]
