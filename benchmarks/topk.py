"""Benchmark: exact top-K by inner product — complement vs faiss ``IndexFlatIP`` vs numpy argpartition.

    python benchmarks/topk.py --repeats 3          # 50,000 users x 20,000 items x 64 dims, K=100
    python benchmarks/topk.py --users 8192 --repeats 3 --methods complement,faiss,numpy

Synthetic Gaussian vectors (seeded), no seen-item masking (faiss cannot mask), 2 threads for every
library. The methods run interleaved (A, B, A, B, ...), ``--repeats`` rounds; each round's
faiss / complement wall-time ratio is computed and the **median ratio** is printed last (on a
shared machine one round can be slowed by other jobs; the interleaving spreads that over both).
Each (method, size) runs in a fresh subprocess so its peak memory is its own: ``peak MiB`` is
the growth of the process's peak RSS (``resource.getrusage``) over its RSS once inputs are built,
which includes the ``users x K`` result arrays (12 bytes per entry) every method returns. The
``--users / 4`` rows of our method show that the working memory does not grow with the number of
users. faiss-cpu is needed for its row only (``pip install faiss-cpu``; not a project dependency).
Prints a Markdown table on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

THREADS = 2


def make_vectors(n_users: int, n_items: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    items = rng.standard_normal((n_items, dim), dtype=np.float32)
    users = rng.standard_normal((n_users, dim), dtype=np.float32)
    return users, items


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_ours(users, items, k, chunk_size):
    import torch

    from complement.scoring import topk_indices

    torch.set_num_threads(THREADS)
    return lambda: topk_indices(users, items, k, device="cpu", chunk_size=chunk_size)[0]


def run_faiss(users, items, k, chunk_size):
    import faiss

    faiss.omp_set_num_threads(THREADS)

    def search():
        index = faiss.IndexFlatIP(items.shape[1])
        index.add(items)
        return index.search(users, k)[1]

    return search


def run_numpy(users, items, k, chunk_size):
    """Chunked like ours: one ``chunk x n_items`` score block, argpartition, then sort the k by score."""
    chunk = chunk_size or 1024

    def search():
        out = np.empty((users.shape[0], k), dtype=np.int64)
        for start in range(0, users.shape[0], chunk):
            scores = users[start : start + chunk] @ items.T
            part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
            out[start : start + chunk] = np.take_along_axis(part, order, axis=1)
        return out

    return search


METHODS = {"complement": run_ours, "faiss": run_faiss, "numpy": run_numpy}
RESULT_BYTES = {"complement": 12, "faiss": 12, "numpy": 8}  # per (user, rank): index (+ score)


def worker(args) -> None:
    """One measurement in this process: prints a JSON line with wall/CPU seconds and peak memory."""
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
    users, items = make_vectors(args.users, args.items, args.dim, args.seed)
    search = METHODS[args.worker](users, items, args.k, args.chunk_size)
    baseline = current_rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    indices = search()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if args.save:
        np.save(args.save, indices)
    print(json.dumps({"seconds": wall, "cpu_seconds": cpu, "peak_mib": peak_rss_mib() - baseline}))


def measure(method: str, n_users: int, args, save: str | None) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, "--users", str(n_users), "--items", str(args.items)]
    cmd += ["--dim", str(args.dim), "--k", str(args.k), "--seed", str(args.seed)]
    cmd += ["--chunk-size", str(args.chunk_size)] if args.chunk_size else []
    cmd += ["--save", save] if save else []
    env = dict(
        os.environ, OMP_NUM_THREADS=str(THREADS), MKL_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS)
    )
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"{method} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def set_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of each user's top-K set that two methods agree on."""
    return float(np.mean([len(np.intersect1d(x, y)) / len(x) for x, y in zip(a, b, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk-size", type=int, default=None, help="users per chunk (default: ours picks one)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds of every method, interleaved; medians are reported"
    )
    parser.add_argument("--methods", default="complement,faiss", help="comma-separated: complement, faiss, numpy")
    parser.add_argument("--worker", choices=sorted(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    methods = args.methods.split(",")
    runs = [(m, args.users) for m in methods] + [("complement", args.users // 4)] * ("complement" in methods)
    rounds: dict[tuple[str, int], list[dict]] = {run: [] for run in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeats):
            for method, n_users in runs:
                save = str(Path(tmp) / f"{method}.npy") if round_ == 0 and n_users == args.users else None
                result = measure(method, n_users, args, save)
                print(
                    f"round {round_ + 1}: {method:10s} {n_users:>7,} users  {result['seconds']:.2f} s  "
                    f"cpu {result['cpu_seconds']:.2f} s  peak +{result['peak_mib']:.0f} MiB",
                    file=sys.stderr,
                )
                rounds[(method, n_users)].append(result)
        results = {m: np.load(Path(tmp) / f"{m}.npy") for m in methods}
    median = {run: {key: float(np.median([r[key] for r in rs])) for key in rs[0]} for run, rs in rounds.items()}
    peak = {run: max(r["peak_mib"] for r in rs) for run, rs in rounds.items()}
    ours = rounds.get(("complement", args.users))
    print(
        f"{args.users:,} users x {args.items:,} items x {args.dim} dims, K={args.k}, {THREADS} threads, "
        f"median of {args.repeats} interleaved rounds (complement chunk: {args.chunk_size or 'default'}); "
        f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n"
    )
    print(
        "| method | users | seconds | CPU seconds | time / complement's (median per round) | peak extra MiB | "
        "of which results | working MiB | top-K sets agree with complement |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for method, n_users in runs:
        r = median[(method, n_users)]
        ratios = (
            [a["seconds"] / b["seconds"] for a, b in zip(rounds[(method, n_users)], ours, strict=True)] if ours else []
        )
        ratio = f"{np.median(ratios):.2f}x" if ratios else "-"
        agree = (
            f"{set_agreement(results[method], results['complement']):.4%}"
            if n_users == args.users and "complement" in results
            else "-"
        )
        result_mib = n_users * args.k * RESULT_BYTES[method] / 2**20
        print(
            f"| {method} | {n_users:,} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | {ratio} | "
            f"{peak[(method, n_users)]:.0f} | "
            f"{result_mib:.0f} | {peak[(method, n_users)] - result_mib:.0f} | {agree} |"
        )
    if ours and ("faiss", args.users) in rounds:
        ratios = [f["seconds"] / c["seconds"] for f, c in zip(rounds[("faiss", args.users)], ours, strict=True)]
        print(
            f"\ncomplement / faiss IndexFlatIP speed: {np.median(ratios):.2f}x (median of the per-round ratios "
            f"{', '.join(f'{x:.2f}' for x in ratios)})"
        )


if __name__ == "__main__":
    main()
