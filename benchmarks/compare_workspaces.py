"""Two workspaces' views side by side: how far their item vectors and their stored lists differ.

    python benchmarks/compare_workspaces.py -a WS1 -b WS2 --views text,sem-s1,lightgcn-s1,fusion-s1

For each view: the largest difference between the item vectors (the same ids in the same order is checked) and
how many values differ, if the view has vectors; and how many of A's stored list rows (user, item, rank) B lacks,
if it has lists. docs/fusion.md ("Text vectors in float64") compares a workspace made under
``MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default`` with one made under the defaults."""

from __future__ import annotations

import argparse

import numpy as np

from complement import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-a", required=True)
    parser.add_argument("-b", required=True)
    parser.add_argument("--views", required=True, help="comma-separated")
    args = parser.parse_args()
    a, b = Workspace(args.a), Workspace(args.b)
    print("view,values,values_differ,largest_difference,list_rows,list_rows_differ")
    for view in args.views.split(","):
        cells = ["", "", ""]
        if view in a.views("item"):
            ids_a, x = a.read_vectors(view, "item")
            ids_b, y = b.read_vectors(view, "item")
            if not np.array_equal(ids_a, ids_b):
                raise SystemExit(f"view '{view}': the two workspaces hold different items")
            cells = [str(x.size), str(int((x != y).sum())), f"{np.abs(x.astype(np.float64) - y).max():.2g}"]
        rows = ["", ""]
        if view in a.parts("topk"):
            keys = ["user_idx", "item_idx", "rank"]
            ra = set(zip(*(a.read_table("topk", view).column(k).to_pylist() for k in keys), strict=True))
            rb = set(zip(*(b.read_table("topk", view).column(k).to_pylist() for k in keys), strict=True))
            rows = [str(len(ra)), str(len(ra - rb))]
        print(",".join([view, *cells, *rows]))


if __name__ == "__main__":
    main()
