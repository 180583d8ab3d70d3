"""The Amazon Industrial & Scientific example end to end from ../shared/data: the real
path keeps working, its results obey the invariants, and they match an independent recomputation."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import shared_dataset

from complement import Workspace
from complement.experiment import load, run_experiment

ROOT = Path(__file__).resolve().parents[1]


def _paper_figures():
    spec = importlib.util.spec_from_file_location("paper_figures", ROOT / "benchmarks" / "paper_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_scientific_example_end_to_end(tmp_path):
    data = shared_dataset("amazon-scientific")
    config = load(
        ROOT / "examples" / "amazon-scientific.toml", [f"dataset.path={data}", "probe.0.seeds=1", "run.seeds=[]"]
    )
    ws = Workspace(tmp_path / "ws")
    run_experiment(ws, config)

    results = ws.root / "results"
    for row in pq.read_table(results / "unique_hits.parquet").to_pylist():
        assert row["share_common"] + row["share_a_only"] + row["share_b_only"] == pytest.approx(1.0)
    for row in pq.read_table(results / "oracle.parquet").to_pylist():
        assert row["union"] >= row["union_at_k"] - 1e-12
        assert row["union_at_k"] >= row["best_view"] - 1e-12
        assert row["best_view"] >= max(row["recall_a"], row["recall_b"]) - 1e-12
    for row in pq.read_table(results / "overlap.parquet").to_pylist():
        assert 0.0 <= row["mean"] <= 1.0
    metrics = {(r["k"], r["view"]): r["recall"] for r in pq.read_table(results / "metrics.parquet").to_pylist()}
    random_recall = 20 / 4385 * 1.5  # a random ranking's expected Recall@20, with room
    for (k, view), recall in metrics.items():
        if k == 20:
            assert recall > random_recall, view

    figures = _paper_figures()
    mine, tool = figures.recompute(ws, "lightgcn", "sem", 20), figures.stored(ws, "lightgcn", "sem", 20)
    for name, value in mine.items():
        if not math.isnan(value):
            assert tool[name] == pytest.approx(value, abs=1e-9), name
