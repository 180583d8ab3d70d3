"""seed_summary: mean ± std over the per-seed views that `complement run --seeds` writes."""

from __future__ import annotations

import statistics

import pyarrow as pa
import pytest

import complement
from complement import Workspace


def _workspace(tmp_path) -> Workspace:
    ws = Workspace(tmp_path)
    items = [f"i{i}" for i in range(4)]
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": items,
                "item_idx": list(range(4)),
                "title": items,
                "text": items,
                "n_train": [1, 1, 1, 1],
                "pop_group": ["cold", "mid", "hot", "hot"],
            }
        ),
    )
    ws.write_table("users", pa.table({"user_id": ["u0", "u1"], "user_idx": [0, 1], "n_train": [1, 1]}))
    ws.write_table(
        "interactions",
        pa.table(
            {
                "user_id": ["u0", "u1"],
                "item_id": ["i0", "i1"],
                "ts": [None, None],
                "rating": [None, None],
                "split": ["test", "test"],
            }
        ),
    )
    # lightgcn-s1 hits both users at rank 1, lightgcn-s2 hits u0 only, pop (no seed) hits nobody
    lists = {
        "lightgcn-s1": {"u0": ["i0", "i2"], "u1": ["i1", "i2"]},
        "lightgcn-s2": {"u0": ["i0", "i2"], "u1": ["i2", "i3"]},
        "pop": {"u0": ["i3", "i2"], "u1": ["i3", "i2"]},
    }
    for view, by_user in lists.items():
        rows = [
            {"view": view, "user_id": u, "rank": r + 1, "item_id": i, "score": 1.0 - r}
            for u, ranked in by_user.items()
            for r, i in enumerate(ranked)
        ]
        ws.write_table("topk", pa.Table.from_pylist(rows), part=view)
    return ws


def test_seed_summary_pools_seeds_of_one_view(tmp_path):
    rows = {r["view"]: r for r in complement.diagnose(_workspace(tmp_path), "seed_summary", k=2).to_pylist()}
    assert sorted(rows) == ["lightgcn", "pop"]
    lightgcn = rows["lightgcn"]
    assert lightgcn["n_seeds"] == 2
    assert lightgcn["recall_mean"] == pytest.approx(0.75)  # seed 1: 1.0, seed 2: 0.5
    assert lightgcn["recall_std"] == pytest.approx(statistics.stdev([1.0, 0.5]))
    assert lightgcn["ndcg_mean"] == pytest.approx(0.75)
    assert rows["pop"]["n_seeds"] == 1 and rows["pop"]["recall_mean"] == 0.0 and rows["pop"]["recall_std"] is None
