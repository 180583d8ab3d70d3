"""The probe step with and without sharing the true vectors' measures across mappers, in one process.

    python benchmarks/probes.py -w WS [--source text --target lightgcn] [--arms nomemo,memo]

WS is a workspace with the two views (e.g. the Games example's); it is copied first, so the benchmark's
``probes`` rows do not land in it. Each arm runs ``run_probe`` for one seed over the random and popularity
shifts with the default mappers. ``memo`` is the code as it is: the true vectors' k-NN, true recalls and
true Rec Jaccard lists are computed once per (shift, seed). ``nomemo`` gives every mapper a fresh memo,
so they are recomputed per mapper (the code before that change). Prints wall and process CPU seconds per
arm, the summed mapper fit seconds, and whether both arms wrote the same rows (``fit_seconds`` aside)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import complement  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads OpenMP)
import complement.probes.run as probe_run
from complement.workspace import Workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--source", default="text")
    parser.add_argument("--target", default="lightgcn")
    parser.add_argument("--arms", default="nomemo,memo")
    args = parser.parse_args()
    shared = probe_run.measure_item_sets

    def fresh_memo(pred, data, fit_items, held_items, k, device, users, memo=None):
        return shared(pred, data, fit_items, held_items, k, device, users, None)

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ws"
        shutil.copytree(args.workspace, copy)
        ws = Workspace(copy)
        for arm in args.arms.split(","):
            probe_run.measure_item_sets = shared if arm == "memo" else fresh_memo
            started, cpu_started = time.perf_counter(), time.process_time()
            table = probe_run.run_probe(
                ws, args.source, args.target, shifts=["random", "popularity"], seeds=1, run_id=f"bench-{arm}"
            )
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            written = table.to_pylist()
            fits = sum(r["value"] for r in written if r["metric"] == "fit_seconds")
            print(f"{arm}: wall {wall:.1f} s, cpu {cpu:.1f} s, mapper fits {fits:.1f} s", flush=True)
            rows[arm] = sorted(
                (r["mapper"], r["shift"], r["item_set"], r["metric"], r["value"])
                for r in written
                if r["metric"] != "fit_seconds"
            )
    probe_run.measure_item_sets = shared
    if len(rows) == 2:
        first, second = rows.values()
        print(f"{len(first)} rows; identical: {first == second}")


if __name__ == "__main__":
    main()
