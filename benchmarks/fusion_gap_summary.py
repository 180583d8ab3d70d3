"""The share of the oracle gain over seeds, as in docs/fusion.md's tables: mean ± sd and per seed from
``fusion_gap``, and each method's paired interval against a reference method from ``fusion_gap_ci``.

    python benchmarks/fusion_gap_summary.py -w WS --seeds 1,2,3 --reference ranker \\
        --methods ranker,score,fusion,ranker3,ranker4 [--pair lightgcn,sem] [--k 20] [--n-boot 1000]

WS holds seeded views NAME-sN (what ``complement run`` writes with ``[run] seeds``): the pair's two views and
every method, for each seed. With one workspace per seed (``benchmarks/gpu_games_fusion.sh`` writes
/tmp/ws-games-N), give ``-w`` once per seed, in the order of ``--seeds``. Prints the oracle bounds per seed
and one Markdown row per method."""

from __future__ import annotations

import argparse
import statistics

from complement import Workspace, diagnose


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True, action="append", help="one, or one per seed")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--reference", required=True, help="the method the intervals are taken against")
    parser.add_argument("--methods", required=True, help="comma-separated; the reference among them")
    parser.add_argument("--pair", default="lightgcn,sem", help="the two views whose oracle is the bound")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if len(args.workspace) not in (1, len(seeds)):
        parser.error(f"give one workspace, or one per seed ({len(seeds)}), not {len(args.workspace)}")
    workspaces = [Workspace(w) for w in args.workspace] * (len(seeds) if len(args.workspace) == 1 else 1)
    methods = args.methods.split(",")
    view_a, view_b = args.pair.split(",")
    share: dict[str, list[float]] = {m: [] for m in methods}
    recall: dict[str, list[float]] = {m: [] for m in methods}
    intervals: dict[str, list[str]] = {m: [] for m in methods}
    bounds = []
    for ws, seed in zip(workspaces, seeds, strict=True):
        a, b = f"{view_a}-s{seed}", f"{view_b}-s{seed}"
        views = [f"{m}-s{seed}" for m in methods]
        for row in diagnose(ws, "fusion_gap", view_a=a, view_b=b, k=args.k, views=views).to_pylist():
            if row["pop_group"] == "all":
                method = row["view"].rsplit("-s", 1)[0]
                share[method].append(row["share_of_union_at_k_gain"])
                recall[method].append(row["recall"])
                bound = (row["best_single"], row["union_at_k"])
        bounds.append(bound)
        others = [v for v in views if v != f"{args.reference}-s{seed}"]
        rows = diagnose(
            ws,
            "fusion_gap_ci",
            view_a=a,
            view_b=b,
            k=args.k,
            reference=f"{args.reference}-s{seed}",
            views=others,
            n_boot=args.n_boot,
            seed=0,
        ).to_pylist()
        for row in rows:
            intervals[row["view"].rsplit("-s", 1)[0]].append(
                f"{row['share_diff']:+.3f} [{row['share_diff_low']:+.3f}, {row['share_diff_high']:+.3f}]"
            )
    print("oracle bounds (best_single, union_at_k) per seed:", [(round(x, 4), round(y, 4)) for x, y in bounds])
    print(f"| method | Recall@{args.k} | share of union_at_k gain | per seed | share − {args.reference} [95% CI] |")
    print("|---|---|---|---|---|")

    def spread(values: list[float]) -> float:
        return statistics.stdev(values) if len(values) > 1 else 0.0

    for m in methods:
        print(
            f"| {m} | {statistics.mean(recall[m]):.4f} ± {spread(recall[m]):.4f} | "
            f"{statistics.mean(share[m]):.3f} ± {spread(share[m]):.3f} | {', '.join(f'{x:.3f}' for x in share[m])} | "
            f"{'; '.join(intervals[m]) or 'reference'} |"
        )


if __name__ == "__main__":
    main()
