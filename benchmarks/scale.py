"""Scale-out check: overlap, unique_hits and oracle on DuckDB (ours), on Spark local[2] (ours, the
translated SQL) and in a straightforward polars implementation, all reading the same Parquet.

For each user count it builds a synthetic workspace (benchmarks/diagnostics.py `build`: users x
K = 20 x 2 views, 1-4 test items per user), then runs each engine in its own subprocess and
reports wall time and peak RSS (for Spark, the Python driver's plus the JVM's), and checks that
they agree to 1e-9. Usage::

    python benchmarks/scale.py [--users 1000000,10000000] [--k 20] [--engines duckdb,spark,polars]
        [--threads 2] [--memory-limit 6GB] [--dir /scratch/scale] [--reuse]

The polars engine runs its query per batch of 500,000 users (on polars' default, streaming, engine),
so its memory stays flat in the number of users. --engines may also name polars-unbatched, the same
query over all users at once (a 3.0-3.3 GB peak at 1M users, growing with them; no faster at 1M),
spark-stock: Spark on pyspark's default session settings, to compare with ours
(complement.diagnostics.spark.LOCAL_CONFIG) on the same files, and duckdb-whole: ours on DuckDB with
each diagnostic run as one statement (COMPLEMENT_DUCKDB_USER_BUCKET=0), where "duckdb" runs the
per-user stage one bucket of 500,000 users at a time (complement/diagnostics/buckets.py).

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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

DIAGNOSTICS = ("overlap", "unique_hits", "oracle")
ENGINES = ("duckdb", "spark", "polars")
# polars-unbatched: the polars query over all users at once (its memory grows with the users).
# spark-stock: Spark on the session settings of pyspark's defaults (a 1 GB heap, G1, sort-merge
# joins) that this project used before complement.diagnostics.spark.LOCAL_CONFIG: run beside "spark"
# to compare them.
# duckdb-whole: ours on DuckDB without the user buckets (each diagnostic one statement over all users).
EXTRA_ENGINES = ("polars-unbatched", "spark-stock", "duckdb-whole")
VIEW_A, VIEW_B = "view_a", "view_b"
GROUP_ORDER = {"all": 0, "cold": 1, "mid": 2, "hot": 3}


# ---- polars: the definitions of docs/diagnostics.md, written directly ----------------------------
# Users per batch of the polars engine. The streaming engine still holds the build sides of
# the joins and the unique() sets whole (3.3 GB at 1M users in one query), so batches of users keep
# the peak flat in the number of users.
POLARS_USERS_PER_BATCH = 500_000


def polars_results(ws_root: Path, k: int, users_per_batch: int | None = None) -> dict[str, list[dict]]:
    """The three diagnostics in polars, collected by its default engine (streaming, in polars 2).
    Without users_per_batch: one lazy query over all users (the "polars-unbatched" engine). With it:
    the same query per batch of that many users (a filter on user_idx, which the row-group statistics
    turn into reading only that batch's rows); every statistic is per user, so the batches' per-user
    values and partial sums combine into the same results (the "polars" engine)."""
    import polars as pl

    from complement.workspace import Workspace

    ws = Workspace(ws_root)

    def scan(name: str) -> pl.LazyFrame:
        return pl.scan_parquet([str(p) for p in ws.table_files(name)])

    batches: list[tuple[int, int] | None] = [None]
    if users_per_batch is not None:
        n_users = scan("users").select(pl.col("user_idx").max()).collect().item() + 1
        batches = [(lo, min(n_users, lo + users_per_batch)) for lo in range(0, n_users, users_per_batch)]
    items = scan("items").select("item_id", "n_train", "pop_group")
    per_user, found, scopes = [], [], []
    for batch in batches:
        topk, interactions = scan("topk"), scan("interactions")
        if batch is not None:
            in_batch = pl.col("user_idx").is_between(*batch, closed="left")
            topk, interactions = topk.filter(in_batch), interactions.filter(in_batch)
        users_overlap, hits = _polars_per_user(topk, interactions, items, k)
        per_user.append(users_overlap.select("jaccard", "overlap_at_k").collect())
        hits_frame = hits.collect()
        found.append(_polars_found(hits_frame))
        scopes.append(_polars_scopes(hits_frame, k))
    return {
        "overlap": _polars_overlap(pl.concat(per_user)),
        "unique_hits": _polars_unique_hits(pl.concat(found)),
        "oracle": _polars_oracle(pl.concat(scopes)),
    }


def _polars_per_user(
    topk: pl.LazyFrame, interactions: pl.LazyFrame, items: pl.LazyFrame, k: int
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Lazy frames: each test user's overlap of the two lists, and the hit flags of every test pair."""
    import polars as pl

    topk = topk.filter(pl.col("rank") <= k).select("view", "user_id", "item_id")
    truth = interactions.filter(pl.col("split") == "test").select("user_id", "item_id").unique()
    list_a = topk.filter(pl.col("view") == VIEW_A).select("user_id", "item_id").unique()
    list_b = topk.filter(pl.col("view") == VIEW_B).select("user_id", "item_id").unique()

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
    )
    hits = (
        truth.join(list_a.with_columns(pl.lit(True).alias("in_a")), on=["user_id", "item_id"], how="left")
        .join(list_b.with_columns(pl.lit(True).alias("in_b")), on=["user_id", "item_id"], how="left")
        .with_columns(pl.col("in_a").fill_null(False), pl.col("in_b").fill_null(False))
        .join(items, on="item_id", how="left")
    )
    return per_user, hits


def _polars_overlap(per_user: pl.DataFrame) -> list[dict]:
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
    return overlap


def _polars_found(hits: pl.DataFrame) -> pl.DataFrame:
    """The hits found by either view: count and log-popularity sum per (in_a, in_b)."""
    import polars as pl

    return (
        hits.filter(pl.col("in_a") | pl.col("in_b"))
        .with_columns((1 + pl.col("n_train")).log().alias("log_pop"))
        .group_by("in_a", "in_b")
        .agg(pl.len().alias("n"), pl.col("log_pop").count().alias("n_log_pop"), pl.col("log_pop").sum())
    )


def _polars_unique_hits(found: pl.DataFrame) -> list[dict]:
    import polars as pl

    sums = {(row["in_a"], row["in_b"]): row for row in found.group_by("in_a", "in_b").agg(pl.all().sum()).to_dicts()}
    both, a_only, b_only = (sums.get(key, {}) for key in ((True, True), (True, False), (False, True)))
    counts = [part.get("n", 0) for part in (both, a_only, b_only)]
    total = sum(counts)

    def share(n: int):
        return n / total if total else None

    def log_pop(part: dict):
        return part["log_pop"] / part["n_log_pop"] if part.get("n_log_pop") else None

    return [
        {
            "common": counts[0],
            "a_only": counts[1],
            "b_only": counts[2],
            "share_common": share(counts[0]),
            "share_a_only": share(counts[1]),
            "share_b_only": share(counts[2]),
            "complementary_hit_ratio": share(counts[1] + counts[2]),
            "log_pop_common": log_pop(both),
            "log_pop_a_only": log_pop(a_only),
            "log_pop_b_only": log_pop(b_only),
        }
    ]


ORACLE_RECALLS = ("recall_a", "recall_b", "union", "union_at_k", "best_view")


def _polars_scopes(hits: pl.DataFrame, k: int) -> pl.DataFrame:
    """Per scope ('all' and each known pop_group of the user's test items): the number of users and
    the sums of their recalls."""
    import polars as pl

    scoped = pl.concat(
        [
            hits.with_columns(pl.lit("all").alias("scope")),
            hits.filter(pl.col("pop_group").is_not_null()).with_columns(pl.col("pop_group").alias("scope")),
        ]
    )
    return (
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
        .agg(pl.len().alias("n_users"), *(pl.col(c).sum() for c in ORACLE_RECALLS))
    )


def _polars_oracle(scopes: pl.DataFrame) -> list[dict]:
    import polars as pl

    per_scope = (
        scopes.group_by("scope")
        .agg(pl.all().sum())
        .with_columns(*(pl.col(c) / pl.col("n_users") for c in ORACLE_RECALLS))
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
    return oracle


# ---- one engine in this process -------------------------------------------------------------------
def _peak_kb(pid: int | str) -> int:
    """A process's peak RSS (VmHWM, kB). Not getrusage's ru_maxrss: Linux carries that across fork and
    exec, so an engine started right after the parent built a workspace would report the builder's
    peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


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
            total_kb += _peak_kb(pid)
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return total_kb / 1024, ticks / os.sysconf("SC_CLK_TCK")


def run_engine(engine: str, ws_root: Path, k: int, threads: int) -> dict:
    start = time.perf_counter()
    jvm_mb = jvm_cpu = 0.0
    if engine == "polars":
        results = polars_results(ws_root, k, POLARS_USERS_PER_BATCH)
    elif engine == "polars-unbatched":
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
            if engine == "duckdb-whole":
                os.environ["COMPLEMENT_DUCKDB_USER_BUCKET"] = "0"
            results = {name: complement.diagnose(ws_root, name, **params).to_pylist() for name in DIAGNOSTICS}
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Spark's work happens in the JVM, a child process: its peak and CPU are added to this process's.
    # CPU seconds are the steadier measure on a shared machine; the wall time counts waits for a core.
    return {
        "engine": engine,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime + jvm_cpu,
        "peak_rss_mb": _peak_kb("self") / 1024 + jvm_mb,
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
                f"  {engine:16s} {run['seconds']:8.1f} s   CPU {run['cpu_seconds']:8.1f} s   "
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
