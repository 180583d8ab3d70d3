"""Where another CPU type enters: the text vectors' last bits under MKL's code paths, and what they do downstream.

    OMP_NUM_THREADS=1 python benchmarks/text_bits.py -w WS1 --seed 1 [--paths COMPATIBLE,AVX2] \\
        [--views fbag,lightgcn,sem] [--scratch DIR]

WS is a workspace of ``benchmarks/cpu/ml-100k-r4bag.toml`` (views ``text``, ``aligned-contrastive-sN`` and the
``--views`` with ``-sN``). MKL, which torch's CPU matrix products call, picks its kernels by CPU;
``MKL_CBWR=PATH`` makes it take one code path (``COMPATIBLE``: the same results on every x86 CPU). For the
default path and each of ``--paths``, in its own copy of WS (without ``cache/``, so nothing is reused):

1. ``complement embed --view t2`` under that path: the largest difference from WS's ``text`` vectors;
2. ``complement train aligned-contrastive --view ac-sN --seed N`` on WS's own ``text`` vectors under that path:
   the largest difference from WS's ``aligned-contrastive-sN``, and the test Recall@20 ``train`` prints.

Then, in the copy of the first of ``--paths`` and under the default path: aligned-contrastive trained on that
path's ``t2`` vectors (``--text-view t2``, view ``ac2-sN``), the ranker over ``--views`` and it (``fuse --method
ranker --fits 5``, view ``r4x-sN``), and ``recount_share.py`` of both beside WS's ``aligned-contrastive-sN`` and
``r4bag-sN``. The copies are left in ``--scratch`` (default: a temporary folder, removed)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from complement import Workspace

HERE = Path(__file__).resolve().parent


def complement(args: list[str], path: str | None) -> str:
    env = dict(os.environ)
    env.pop("MKL_CBWR", None)
    if path:
        env["MKL_CBWR"] = path
    done = subprocess.run(["complement", *args], env=env, capture_output=True, text=True, check=True)
    lines = (done.stdout + done.stderr).strip().splitlines()  # the summary line goes to either stream
    return lines[-1] if lines else ""


def max_diff(a: Workspace, view_a: str, b: Workspace, view_b: str) -> float:
    ids_a, x = a.read_vectors(view_a)
    ids_b, y = b.read_vectors(view_b)
    assert np.array_equal(ids_a, ids_b)
    return float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--paths", default="COMPATIBLE,AVX2", help="MKL_CBWR values to compare with the default")
    parser.add_argument("--views", default="fbag,lightgcn,sem", help="the ranker's other views (without -sN)")
    parser.add_argument("--scratch", default=None, help="keep the workspace copies here")
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if not paths:
        parser.error("--paths needs at least one MKL_CBWR value")
    source = Workspace(args.workspace)
    n = args.seed
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="text_bits-"))
    copies = {}
    for path in ["", *paths]:
        name = path or "default"
        copy = scratch / name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(source.root, copy, ignore=shutil.ignore_patterns("cache"))
        copies[path] = copy
        complement(["embed", "-w", str(copy), "--view", "t2", "--device", "cpu"], path)
        trained = complement(
            [
                "train",
                "aligned-contrastive",
                "-w",
                str(copy),
                "--view",
                f"ac-s{n}",
                "--seed",
                str(n),
                "--exclude",
                "train+valid",
            ],
            path,
        )
        ws = Workspace(copy)
        print(
            f"MKL_CBWR={name}: text vectors max |diff| {max_diff(ws, 't2', source, 'text'):.2g}; "
            f"aligned-contrastive on the same text vectors max |diff| "
            f"{max_diff(ws, f'ac-s{n}', source, f'aligned-contrastive-s{n}'):.2g}\n  {trained}"
        )
    copy = copies[paths[0]]
    print(f"aligned-contrastive on the MKL_CBWR={paths[0]} text vectors, and the ranker over it (default path):")
    print(
        "  "
        + complement(
            [
                "train",
                "aligned-contrastive",
                "-w",
                str(copy),
                "--view",
                f"ac2-s{n}",
                "--seed",
                str(n),
                "--text-view",
                "t2",
                "--exclude",
                "train+valid",
            ],
            None,
        )
    )
    views = ",".join([f"{v}-s{n}" for v in args.views.split(",")] + [f"ac2-s{n}"])
    complement(
        [
            "fuse",
            "-w",
            str(copy),
            "--views",
            views,
            "--method",
            "ranker",
            "--fits",
            "5",
            "--exclude",
            "train+valid",
            "--view",
            f"r4x-s{n}",
        ],
        None,
    )
    sys.stdout.flush()
    subprocess.run(
        [
            sys.executable,
            str(HERE / "recount_share.py"),
            "-w",
            str(copy),
            "--pair",
            f"lightgcn-s{n},sem-s{n}",
            "--methods",
            f"aligned-contrastive-s{n},ac2-s{n},r4bag-s{n},r4x-s{n}",
        ],
        check=True,
    )
    if args.scratch is None:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
