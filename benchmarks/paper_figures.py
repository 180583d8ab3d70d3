"""Recompute the paper's headline figures independently from a workspace's raw tables and compare
them with what `complement run` stored in results/ (the tool's numbers must be reproducible
outside its own SQL).

    python benchmarks/paper_figures.py WS [--pair lightgcn,sem] [--k 20]

Plain Python over `topk`, `interactions` and `items` (no diagnostics SQL): mean Jaccard@K of the two
top-K lists over evaluated users, hit shares (both / A only / B only), mean ln(1 + n_train) of the
hits found by one view only, and Recall@K of each view.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from complement import Workspace


def recompute(ws: Workspace, view_a: str, view_b: str, k: int = 20) -> dict:
    test: dict[str, set[str]] = defaultdict(set)
    for row in ws.query("SELECT user_id, item_id FROM interactions WHERE split = 'test'").to_pylist():
        test[row["user_id"]].add(row["item_id"])
    n_train = {r["item_id"]: r["n_train"] for r in ws.query("SELECT item_id, n_train FROM items").to_pylist()}
    lists: dict[str, dict[str, set[str]]] = {view_a: defaultdict(set), view_b: defaultdict(set)}
    rows = ws.query(
        "SELECT view, user_id, item_id FROM topk WHERE view IN ($a, $b) AND rank <= $k",
        {"a": view_a, "b": view_b, "k": k},
    ).to_pylist()
    for row in rows:
        lists[row["view"]][row["user_id"]].add(row["item_id"])
    jaccards, recalls_a, recalls_b = [], [], []
    common = a_only = b_only = 0
    pop_a_only, pop_b_only = [], []
    for user, truth in test.items():
        la, lb = lists[view_a].get(user, set()), lists[view_b].get(user, set())
        if la or lb:
            jaccards.append(len(la & lb) / len(la | lb))
        ha, hb = la & truth, lb & truth
        recalls_a.append(len(ha) / len(truth))
        recalls_b.append(len(hb) / len(truth))
        common += len(ha & hb)
        a_only += len(ha - hb)
        b_only += len(hb - ha)
        pop_a_only += [math.log1p(n_train[i]) for i in ha - hb]
        pop_b_only += [math.log1p(n_train[i]) for i in hb - ha]
    hits = common + a_only + b_only
    return {
        "jaccard": sum(jaccards) / len(jaccards),
        "share_common": common / hits,
        "share_a_only": a_only / hits,
        "share_b_only": b_only / hits,
        "complementary_hit_ratio": (a_only + b_only) / hits,
        "log_pop_a_only": sum(pop_a_only) / len(pop_a_only) if pop_a_only else float("nan"),
        "log_pop_b_only": sum(pop_b_only) / len(pop_b_only) if pop_b_only else float("nan"),
        "recall_a": sum(recalls_a) / len(recalls_a),
        "recall_b": sum(recalls_b) / len(recalls_b),
    }


def stored(ws: Workspace, view_a: str, view_b: str, k: int = 20) -> dict:
    """The same figures as `complement run` stored them (results/*.parquet)."""

    def row(name, **where):
        for r in pq.read_table(ws.root / "results" / f"{name}.parquet").to_pylist():
            if (
                r.get("k") == k
                and r.get("pair_a") == view_a
                and r.get("pair_b") == view_b
                and all(r.get(c) == v for c, v in where.items())
            ):
                return r
        raise KeyError(name)

    hits = row("unique_hits")
    oracle = row("oracle", pop_group="all")
    return {
        "jaccard": row("overlap", statistic="jaccard")["mean"],
        **{
            c: hits[c]
            for c in (
                "share_common",
                "share_a_only",
                "share_b_only",
                "complementary_hit_ratio",
                "log_pop_a_only",
                "log_pop_b_only",
            )
        },
        "recall_a": oracle["recall_a"],
        "recall_b": oracle["recall_b"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace")
    parser.add_argument("--pair", default="lightgcn,sem")
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    ws = Workspace(args.workspace)
    a, b = args.pair.split(",")
    mine, tool = recompute(ws, a, b, args.k), stored(ws, a, b, args.k)
    worst = max(abs(mine[c] - tool[c]) for c in mine if not math.isnan(mine[c]))
    print(json.dumps({"independent": mine, "tool": tool, "max_abs_difference": worst}, indent=2))
    sys.exit(0 if worst < 1e-9 else 1)


if __name__ == "__main__":
    main()
