"""The text vectors in float32 and float64 under MKL's code paths: how far apart, and what rounding leaves.

    OMP_NUM_THREADS=1 python benchmarks/text_precision.py -w WS [--paths COMPATIBLE,AVX2,AVX] [--batch-size 64]

WS is any workspace with ``items`` (the texts ``complement embed`` would encode, default template). For the
default path (``MKL_CBWR`` unset) and each of ``--paths``, one child process loads the packaged MiniLM and
encodes every distinct text as ``embed`` does (``encode_batches``), once in float32 and once in float64
(``--precision float64``: float64 arithmetic, rounded to float32), timing each, and once more in float64 without
the rounding. Printed per path against the default one: the float32 values that differ and their largest
difference; the float64 values that differ before rounding (share, largest); those that differ after rounding;
and, for the first of ``--paths``, the chance per value that rounding flips (the mean over values of the float64
difference over the float32 step at that value) and the flips it predicts for WS. docs/embeddings.md ("Same bits
on every CPU") quotes a run on ml-100k."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import sys, time
import numpy as np
from complement import Workspace
from complement.embed.encoder import encode_batches, load_model, resolve_model
from complement.embed.template import item_texts

texts = sorted(set(item_texts(Workspace(sys.argv[1]), None).texts))
out, batch = sys.argv[2], int(sys.argv[3])
path = str(resolve_model(None).path)
for precision in ("float32", "float64"):
    model = load_model(path, "cpu", precision)
    vectors = np.zeros((len(texts), 384), np.float32)
    started = time.perf_counter()
    for rows, chunk in encode_batches(model, texts, batch):
        vectors[rows] = chunk
    print(precision, round(time.perf_counter() - started, 1))
    np.save(f"{out}/{precision}.npy", vectors)
raw = load_model(path, "cpu", "float64").encode(texts, batch_size=batch, convert_to_numpy=True)
np.save(f"{out}/raw64.npy", np.asarray(raw, dtype=np.float64))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-w", "--workspace", required=True)
    parser.add_argument("--paths", default="COMPATIBLE,AVX2,AVX", help="MKL_CBWR values to compare with the default")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    paths = ["", *args.paths.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        found = {}
        for path in paths:
            folder = Path(tmp) / (path or "default")
            folder.mkdir()
            env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"} | ({"MKL_CBWR": path} if path else {})
            done = subprocess.run(
                [sys.executable, "-c", CHILD, args.workspace, str(folder), str(args.batch_size)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds = dict(line.split() for line in done.stdout.splitlines())
            found[path] = {name: np.load(folder / f"{name}.npy") for name in ("float32", "float64", "raw64")}
            print(f"{path or 'default'}: encoding {seconds['float32']} s in float32, {seconds['float64']} s in float64")
    base = found[""]
    n = base["float32"].size
    print(f"{base['float32'].shape[0]:,} distinct texts, {n:,} values")
    gap = np.abs(base["float64"].astype(np.float64) - base["float32"]).max()
    print(f"default path, float64 (rounded) against float32: largest difference {gap:.2g}")
    for path in paths[1:]:
        other = found[path]
        f32 = np.abs(other["float32"].astype(np.float64) - base["float32"])
        raw = np.abs(other["raw64"] - base["raw64"])
        rounded = int((other["float64"] != base["float64"]).sum())
        print(
            f"{path} against default: float32 {int((f32 > 0).sum()):,} values differ (largest {f32.max():.2g}); "
            f"float64 before rounding {(raw > 0).mean():.0%} differ (largest {raw.max():.2g}); "
            f"after rounding {rounded:,} differ"
        )
    first = found[paths[1]]["raw64"]
    step = np.spacing(np.abs(base["raw64"]).astype(np.float32)).astype(np.float64)
    chance = float((np.abs(first - base["raw64"]) / step).mean())
    print(f"chance per value of a rounding flip ({paths[1]} against default): {chance:.2g}; {chance * n:.2g} here")


if __name__ == "__main__":
    main()
