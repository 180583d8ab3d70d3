"""CPU seconds of the scale benchmark's diagnostics, and of reformulations of overlap's join, on one workspace.

Used to see where DuckDB's time goes as the users grow (docs/benchmarks.md "Scale"): run it on the 1M and
the 10M workspaces that ``benchmarks/scale.py --dir DIR`` builds and compare the CPU seconds.

    python benchmarks/scale_profile.py DIR/ws-1000000
    python benchmarks/scale_profile.py DIR/ws-10000000 --memory-limit 16GB --only overlap
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

DIAGNOSTICS = ("overlap", "unique_hits", "oracle")

# Counting the items two views' lists share, four ways (the counts must agree).
LIST_A = "SELECT user_idx, item_idx FROM topk WHERE view = 'view_a' AND rank <= 20"
LIST_B = "SELECT user_idx, item_idx FROM topk WHERE view = 'view_b' AND rank <= 20"
VARIANTS = {
    "join": f"SELECT count(*), sum(n) FROM (SELECT user_idx, count(*) AS n FROM ({LIST_A}) JOIN ({LIST_B}) "
    "USING (user_idx, item_idx) GROUP BY user_idx)",
    "packed": "SELECT count(*), sum(n) FROM (SELECT a.user_idx, count(*) AS n FROM "
    f"(SELECT user_idx, user_idx::BIGINT * 1048576 + item_idx AS key FROM ({LIST_A})) a JOIN "
    f"(SELECT user_idx::BIGINT * 1048576 + item_idx AS key FROM ({LIST_B})) b USING (key) GROUP BY a.user_idx)",
    "lists": "SELECT count(*), sum(len(list_intersect(la, lb))) FROM (SELECT user_idx, "
    "list(item_idx) FILTER (WHERE view = 'view_a') AS la, list(item_idx) FILTER (WHERE view = 'view_b') AS lb "
    "FROM topk WHERE rank <= 20 AND view IN ('view_a', 'view_b') GROUP BY user_idx)",
    "sizes": "SELECT count(*), sum(n_a) FROM (SELECT user_idx, count(*) FILTER (WHERE view = 'view_a') AS n_a "
    "FROM topk WHERE rank <= 20 AND view IN ('view_a', 'view_b') GROUP BY user_idx)",
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, run) -> None:
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = run()
    seconds = f"wall {time.perf_counter() - wall:7.1f} s  cpu {cpu_seconds() - cpu:7.1f} s"
    print(f"{label:12s} {seconds}  {result}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--only", default=",".join(DIAGNOSTICS + tuple(VARIANTS)), help="comma-separated names")
    args = parser.parse_args(argv)
    os.environ["COMPLEMENT_DUCKDB_THREADS"] = str(args.threads)
    os.environ["COMPLEMENT_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    import complement

    ws = complement.Workspace(args.workspace)
    for name in args.only.split(","):
        if name in DIAGNOSTICS:
            timed(name, lambda n=name: len(complement.diagnose(ws, n, view_a="view_a", view_b="view_b", k=20).table()))
        elif name in VARIANTS:
            timed(name, lambda n=name: ws.query(VARIANTS[n]).to_pylist())
        else:
            parser.error(f"unknown name {name!r}: {', '.join(DIAGNOSTICS + tuple(VARIANTS))}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
