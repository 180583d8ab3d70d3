"""Recount Recall@k and the share of the oracle gain from a workspace's files, without complement's code.

    python benchmarks/recount_share.py -w WS --pair lightgcn-s1,sem-s1 --methods r4bag-s1,fusion-s1 [--k 20]

The independent check of a fused view's numbers (docs/fusion.md: its recall recomputed from the topk tables): it
reads ``tables/_catalog.json`` for the Parquet files of ``interactions`` and of each view's ``topk`` part and
counts in plain Python (pyarrow only reads the files). The definitions are docs/diagnostics.md's
(``fusion_gap``, scope ``all``): the evaluated users are those with a test interaction; T(u) is the set of
their distinct test items; L_v(u) the items at rank <= k in view v's list (a user without a list has no hits);
R_v = mean over users of |L_v(u) ∩ T(u)| / |T(u)|; best_single = max(R_A, R_B); union_at_k = mean of
min(|(L_A(u) ∪ L_B(u)) ∩ T(u)|, k) / |T(u)|; share = (R_v − best_single) / (union_at_k − best_single).
Prints one CSV row per method; ``tests/test_recount_share.py`` checks it against ``fusion_gap``."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq


def _files(root: Path, key: str) -> list[Path]:
    entries = json.loads((root / "tables" / "_catalog.json").read_text(encoding="utf-8"))["entries"]
    if key not in entries:
        raise SystemExit(f"{root}: the catalog has no '{key}' (views: {sorted(e for e in entries if '/' in e)})")
    return [root / "tables" / name for name in entries[key]["files"]]


def _rows(files: list[Path], columns: list[str]) -> list[dict]:
    return [row for path in files for row in pq.read_table(path, columns=columns).to_pylist()]


def test_items(root: Path) -> dict[str, set[str]]:
    truth: dict[str, set[str]] = defaultdict(set)
    for row in _rows(_files(root, "interactions"), ["user_id", "item_id", "split"]):
        if row["split"] == "test":
            truth[row["user_id"]].add(row["item_id"])
    return dict(truth)


def top_lists(root: Path, view: str, k: int) -> dict[str, set[str]]:
    lists: dict[str, set[str]] = defaultdict(set)
    for row in _rows(_files(root, f"topk/{view}"), ["user_id", "item_id", "rank"]):
        if row["rank"] <= k:
            lists[row["user_id"]].add(row["item_id"])
    return dict(lists)


def recount(root: Path, view_a: str, view_b: str, methods: list[str], k: int = 20) -> dict[str, dict[str, float]]:
    """``{method: {recall, best_single, union_at_k, share}}`` in exact fractions, returned as floats."""
    truth = test_items(root)
    users = sorted(truth)
    lists = {view: top_lists(root, view, k) for view in {view_a, view_b, *methods}}

    def recall(view: str) -> Fraction:
        hits = lists[view]
        total = sum((Fraction(len(hits.get(u, set()) & truth[u]), len(truth[u])) for u in users), Fraction(0))
        return total / len(users)

    best = max(recall(view_a), recall(view_b))
    union = sum(
        (
            Fraction(min(len((lists[view_a].get(u, set()) | lists[view_b].get(u, set())) & truth[u]), k), len(truth[u]))
            for u in users
        ),
        Fraction(0),
    ) / len(users)
    out = {}
    for method in methods:
        value = recall(method)
        share = (value - best) / (union - best) if union != best else None
        out[method] = {
            "recall": float(value),
            "best_single": float(best),
            "union_at_k": float(union),
            "share": None if share is None else float(share),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--pair", required=True, help="the two views whose oracle is the bound, A,B")
    parser.add_argument("--methods", required=True, help="comma-separated views to recount")
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    view_a, view_b = args.pair.split(",")
    result = recount(Path(args.workspace), view_a, view_b, args.methods.split(","), args.k)
    print("view,recall,best_single,union_at_k,share")
    for method, row in result.items():
        share = "" if row["share"] is None else f"{row['share']:.6f}"
        print(f"{method},{row['recall']:.6f},{row['best_single']:.6f},{row['union_at_k']:.6f},{share}")


if __name__ == "__main__":
    main()
