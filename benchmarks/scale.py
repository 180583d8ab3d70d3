"""Scale-out check: overlap, unique_hits and oracle on DuckDB (ours), on Spark local[2] (ours, the
translated SQL) and in a straightforward polars implementation, all reading the same Parquet.

For each user count it builds a synthetic workspace (benchmarks/diagnostics.py `build`: users x
K = 20 x 2 views, 1-4 test items per user), then runs each engine in its own subprocess and
reports wall time and peak RSS (for Spark, the Python driver's plus the JVM's), and checks that the
three agree to 1e-9. Usage::

    python benchmarks/scale.py [--users 1000000,10000000] [--k 20] [--engines duckdb,spark,polars]
        [--threads 2] [--memory-limit 6GB] [--dir /scratch/scale] [--reuse]

--engines may also name spark-stock: Spark on pyspark's default session settings, to compare with
ours (complement.diagnostics.spark.LOCAL_CONFIG) on the same files.

Each engine gets the same number of threads (--threads: DuckDB's `threads`, polars'
POLARS_MAX_THREADS, Spark's local[N]); --memory-limit caps DuckDB (it spills to a folder under
--dir past it). --reuse keeps a workspace already built under --dir. Needs `complement[spark]` and
Java for the Spark engine, and polars (`pip install polars`). The 1M and 10M runs need several GB
of memory and disk.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIAGNOSTICS = ("overlap", "unique_hits", "oracle")
ENGINES = ("duckdb", "spark", "polars")
# Spark on the session settings of pyspark's defaults (a 1 GB heap, G1, sort-merge joins) that this
# project used before complement.diagnostics.spark.LOCAL_CONFIG: run beside "spark" to compare them.
EXTRA_ENGINES = ("spark-stock",)
VIEW_A, VIEW_B = "view_a", "view_b"
GROUP_ORDER = {"all": 0, "cold": 1, "mid": 2, "hot": 3}


# ---- polars: the definitions of docs/diagnostics.md, written directly ----------------------------
def polars_results(ws_root: Path, k: int) -> dict[str, list[dict]]:
    import polars as pl

    from complement.workspace import Workspace

    ws = Workspace(ws_root)

    def scan(name: str) -> pl.LazyFrame:
        return pl.scan_parquet([str(p) for p in ws.table_files(name)])

    topk = scan("topk").filter(pl.col("rank") <= k).select("view", "user_id", "item_id")
    truth = scan("interactions").filter(pl.col("split") == "test").select("user_id", "item_id").unique()
    items = scan("items").select("item_id", "n_train", "pop_group")
    list_a = topk.filter(pl.col("view") == VIEW_A).select("user_id", "item_id").unique()
    list_b = topk.filter(pl.col("view") == VIEW_B).select("user_id", "item_id").unique()

    # overlap
    common = list_a.join(list_b, on=["user_id", "item_id"]).group_by("user_id").agg(pl.len().alias("n_common"))
    sizes = (
        list_a.group_by("user_id")
        .agg(pl.len().alias("n_a"))
        .join(list_b.group_by("user_id").agg(pl.len().alias("n_b")), on="user_id", how="full", coalesce=True)
        .with_columns(pl.col("n_a").fill_null(0), pl.col("n_b").fill_null(0))
    )
    per_user = (
        truth.select("user_id")
        .unique()
        .join(sizes, on="user_id", how="left")
        .join(common, on="user_id", how="left")
        .with_columns(pl.col("n_common").fill_null(0))
        .with_columns(
            (pl.col("n_a") + pl.col("n_b") - pl.col("n_common")).alias("n_union"),
            (pl.col("n_common") / k).alias("overlap_at_k"),
        )
        .with_columns(
            pl.when(pl.col("n_union") > 0).then(pl.col("n_common") / pl.col("n_union")).otherwise(None).alias("jaccard")
        )
        .collect()
    )
    overlap = []
    for statistic in ("jaccard", "overlap_at_k"):
        column = per_user[statistic].drop_nulls()
        overlap.append(
            {
                "statistic": statistic,
                "n_users": len(column),
                "mean": column.mean(),
                "q25": column.quantile(0.25, "linear"),
                "median": column.quantile(0.5, "linear"),
                "q75": column.quantile(0.75, "linear"),
            }
        )

    # the hit flags of every test pair
    hits = (
        truth.join(list_a.with_columns(pl.lit(True).alias("in_a")), on=["user_id", "item_id"], how="left")
        .join(list_b.with_columns(pl.lit(True).alias("in_b")), on=["user_id", "item_id"], how="left")
        .with_columns(pl.col("in_a").fill_null(False), pl.col("in_b").fill_null(False))
        .join(items, on="item_id", how="left")
        .collect()
    )

    # unique_hits
    found = hits.filter(pl.col("in_a") | pl.col("in_b")).with_columns((1 + pl.col("n_train")).log().alias("log_pop"))
    both = found.filter(pl.col("in_a") & pl.col("in_b"))
    a_only = found.filter(pl.col("in_a") & ~pl.col("in_b"))
    b_only = found.filter(~pl.col("in_a") & pl.col("in_b"))
    total = len(found)

    def share(n: int):
        return n / total if total else None

    unique_hits = [
        {
            "common": len(both),
            "a_only": len(a_only),
            "b_only": len(b_only),
            "share_common": share(len(both)),
            "share_a_only": share(len(a_only)),
            "share_b_only": share(len(b_only)),
            "complementary_hit_ratio": share(len(a_only) + len(b_only)),
            "log_pop_common": both["log_pop"].mean(),
            "log_pop_a_only": a_only["log_pop"].mean(),
            "log_pop_b_only": b_only["log_pop"].mean(),
        }
    ]

    # oracle: scope 'all' and each known pop_group of the user's test items
    scoped = pl.concat(
        [
            hits.with_columns(pl.lit("all").alias("scope")),
            hits.filter(pl.col("pop_group").is_not_null()).with_columns(pl.col("pop_group").alias("scope")),
        ]
    )
    per_scope = (
        scoped.group_by("scope", "user_id")
        .agg(
            pl.len().alias("n_test"),
            pl.col("in_a").sum().alias("hits_a"),
            pl.col("in_b").sum().alias("hits_b"),
            (pl.col("in_a") | pl.col("in_b")).sum().alias("hits_union"),
        )
        .with_columns(
            (pl.col("hits_a") / pl.col("n_test")).alias("recall_a"),
            (pl.col("hits_b") / pl.col("n_test")).alias("recall_b"),
            (pl.col("hits_union") / pl.col("n_test")).alias("union"),
            (pl.min_horizontal(pl.col("hits_union"), pl.lit(k)) / pl.col("n_test")).alias("union_at_k"),
            (pl.max_horizontal("hits_a", "hits_b") / pl.col("n_test")).alias("best_view"),
        )
        .group_by("scope")
        .agg(
            pl.len().alias("n_users"),
            *(pl.col(c).mean() for c in ("recall_a", "recall_b", "union", "union_at_k", "best_view")),
        )
    )
    oracle = []
    for row in sorted(per_scope.to_dicts(), key=lambda r: (GROUP_ORDER.get(r["scope"], 4), r["scope"])):
        best = max(row["recall_a"], row["recall_b"])
        oracle.append(
            {
                "pop_group": row["scope"],
                "n_users": row["n_users"],
                "recall_a": row["recall_a"],
                "recall_b": row["recall_b"],
                "best_single": best,
                "union": row["union"],
                "union_at_k": row["union_at_k"],
                "best_view": row["best_view"],
                "union_gain": row["union"] - best,
                "union_at_k_gain": row["union_at_k"] - best,
                "best_view_gain": row["best_view"] - best,
            }
        )
    return {"overlap": overlap, "unique_hits": unique_hits, "oracle": oracle}


# ---- one engine in this process -------------------------------------------------------------------
def _descendants_peak_mb() -> tuple[float, float]:
    """Sum of the peak RSS (VmHWM, MB) and of the CPU seconds of this process's living descendants
    (the Spark JVM), from /proc."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent_of[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parent_of.items() if parent in frontier} - mine
        mine |= frontier
    total_kb, ticks = 0, 0
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return total_kb / 1024, ticks / os.sysconf("SC_CLK_TCK")


def run_engine(engine: str, ws_root: Path, k: int, threads: int) -> dict:
    start = time.perf_counter()
    jvm_mb = jvm_cpu = 0.0
    if engine == "polars":
        results = polars_results(ws_root, k)
    else:
        import complement

        params = {"view_a": VIEW_A, "view_b": VIEW_B, "k": k}
        if engine in ("spark", "spark-stock"):
            from complement.diagnostics.spark import diagnose_spark, session

            spark = session(f"local[{threads}]") if engine == "spark" else _stock_session(threads)
            spark.sparkContext.setLogLevel("ERROR")
            results = {name: diagnose_spark(ws_root, name, spark=spark, **params).to_pylist() for name in DIAGNOSTICS}
            jvm_mb, jvm_cpu = _descendants_peak_mb()
            spark.stop()
        else:
            results = {name: complement.diagnose(ws_root, name, **params).to_pylist() for name in DIAGNOSTICS}
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Spark's work happens in the JVM, a child process: its peak and CPU are added to this process's.
    # CPU seconds are the steadier measure on a shared machine; the wall time counts waits for a core.
    return {
        "engine": engine,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime + jvm_cpu,
        "peak_rss_mb": usage.ru_maxrss / 1024 + jvm_mb,
        "results": results,
    }


def _stock_session(threads: int):
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{threads}]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def _same(a, b, tol: float = 1e-9) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=0, abs_tol=tol) or (math.isnan(a) and math.isnan(b))
    return a == b


def compare(reference: dict, other: dict) -> list[str]:
    """Differences between two engines' results, as readable lines (empty when they agree)."""
    problems = []
    for name in DIAGNOSTICS:
        want, got = reference[name], other[name]
        if len(want) != len(got):
            problems.append(f"{name}: {len(want)} rows vs {len(got)}")
            continue
        for w, g in zip(want, got, strict=True):
            for column, value in w.items():
                if not _same(value, g.get(column)):
                    problems.append(f"{name}.{column}: {value!r} vs {g.get(column)!r}")
    return problems


def _engine_env(args: argparse.Namespace, root: Path) -> dict[str, str]:
    """The environment of an engine's process: this checkout's complement first on the path, the
    thread count for every engine, DuckDB's memory cap and spill folder."""
    env = dict(os.environ)
    repo = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([repo, *filter(None, [env.get("PYTHONPATH")])])
    env["COMPLEMENT_DUCKDB_THREADS"] = env["POLARS_MAX_THREADS"] = str(args.threads)
    if args.memory_limit:
        env["COMPLEMENT_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
        env["COMPLEMENT_DUCKDB_TEMP_DIRECTORY"] = str(root / "duckdb-spill")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="1000000,10000000", help="comma-separated user counts")
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--dir", type=Path, default=None, help="where the workspaces go (default: a temporary folder)")
    parser.add_argument("--threads", type=int, default=2, help="threads (cores) each engine may use")
    parser.add_argument("--memory-limit", default=None, help="DuckDB's memory_limit, e.g. 6GB (default: DuckDB's)")
    parser.add_argument("--reuse", action="store_true", help="reuse a workspace already built under --dir")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # child mode: run one engine, print JSON
    parser.add_argument("--workspace", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        print(json.dumps(run_engine(args.engine, args.workspace, args.k, args.threads)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from diagnostics import build  # the synthetic workspace of benchmarks/diagnostics.py

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES) - set(EXTRA_ENGINES))
    if unknown:
        parser.error(f"unknown engine {unknown[0]} (choose from {', '.join(ENGINES + EXTRA_ENGINES)})")
    root = args.dir or Path(tempfile.mkdtemp(prefix="complement-scale-"))
    failed = False
    for n_users in [int(u) for u in args.users.split(",")]:
        ws_root = root / f"ws-{n_users}"
        start = time.perf_counter()
        if not (args.reuse and (ws_root / "tables" / "_catalog.json").exists()):
            build(ws_root, n_users, args.items, args.k)
        print(
            f"\n{n_users:,} users x K={args.k} x 2 views: built in {time.perf_counter() - start:.1f} s ({ws_root})",
            file=sys.stderr,
        )
        runs = {}
        for engine in engines:
            command = [sys.executable, __file__, "--engine", engine, "--workspace", str(ws_root)]
            child = subprocess.run(
                [*command, "--k", str(args.k), "--threads", str(args.threads)],
                capture_output=True,
                text=True,
                check=False,
                env=_engine_env(args, root),
            )
            if child.returncode != 0:
                print(f"  {engine}: failed\n{child.stderr[-2000:]}", file=sys.stderr)
                failed = True
                continue
            runs[engine] = json.loads(child.stdout.strip().splitlines()[-1])
            run = runs[engine]
            print(
                f"  {engine:11s} {run['seconds']:8.1f} s   CPU {run['cpu_seconds']:8.1f} s   "
                f"peak RSS {run['peak_rss_mb']:8.0f} MB"
            )
        if runs:
            first = next(iter(runs))
            for engine, run in runs.items():
                problems = compare(runs[first]["results"], run["results"])
                if problems:
                    failed = True
                    print(f"  {engine} differs from {first}: " + "; ".join(problems[:5]))
            if not failed:
                print(f"  all {len(runs)} engines agree (1e-9)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
