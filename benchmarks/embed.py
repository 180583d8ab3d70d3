# ruff: noqa: I001  (complement must be imported before torch)
"""Benchmark: `complement embed` against a bare ``SentenceTransformer.encode`` of the same texts.

    python benchmarks/embed.py --repeats 3            # 600 synthetic item texts, the packaged MiniLM
    python benchmarks/embed.py --items 4000 --batch-size 128

Both sides use the same loaded model object, the same texts and the same batch size, in one
process, after one untimed warm-up encode, interleaved (bare, embed, embed, bare, ...: who goes
first alternates). ``embed`` is timed end to end with an empty cache every round: reading
``items``, hashing, encoding, saving the cache, writing the ``embeddings`` table and the ``runs`` row. Each round's
bare / embed time ratio is printed and
the **median ratio** last (1.00x = as fast as the bare encoder), with the same ratio in process CPU
time (steadier than wall time when other jobs share the cores). The texts are seeded random word
sequences of 4-60 words, so batches pad differently depending on the order. Progress on stderr,
the table on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import complement  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch loads OpenMP)
import numpy as np
import pyarrow as pa

from complement.embed import encoder
from complement.workspace import Workspace

WORDS = (
    "space",
    "opera",
    "rebels",
    "empire",
    "galaxy",
    "love",
    "story",
    "paris",
    "comedy",
    "cooking",
    "pasta",
    "documentary",
    "heist",
    "casino",
    "thriller",
    "war",
    "ships",
    "lasers",
    "family",
    "drama",
    "music",
    "band",
    "road",
    "trip",
    "detective",
    "murder",
    "mystery",
    "village",
    "winter",
    "summer",
    "robot",
    "future",
    "past",
    "king",
    "queen",
    "dragon",
    "sword",
    "school",
    "friends",
    "horror",
    "ghost",
    "house",
    "city",
)


def synthetic_texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(4, 61, size=n)
    return [" ".join(rng.choice(WORDS, size=length)) + f" #{i}" for i, length in enumerate(lengths)]


def make_workspace(root: Path, texts: list[str]) -> Workspace:
    ws = Workspace(root)
    n = len(texts)
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": [f"i{i}" for i in range(n)],
                "item_idx": list(range(n)),
                "title": [f"Title {i}" for i in range(n)],
                "text": texts,
                "n_train": [1] * n,
                "pop_group": ["cold"] * n,
            }
        ),
    )
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    texts = synthetic_texts(args.items, args.seed)
    spec = encoder.resolve_model(None)
    model = encoder.load_model(str(spec.path), "cpu", "float32")  # the instance embed() uses too
    model.encode(texts, batch_size=args.batch_size, show_progress_bar=False)  # untimed warm-up: every batch shape once
    bare_s, embed_s, bare_cpu, embed_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws", texts)
        cache_file = ws.cache_dir / "embeddings" / f"{spec.identity}.parquet"
        for round_ in range(args.repeats):
            for side in ("bare", "embed") if round_ % 2 == 0 else ("embed", "bare"):  # alternate who goes first
                started, cpu = time.perf_counter(), time.process_time()
                if side == "bare":
                    bare = model.encode(
                        texts, batch_size=args.batch_size, show_progress_bar=False, convert_to_numpy=True
                    )
                    bare_s.append(time.perf_counter() - started)
                    bare_cpu.append(time.process_time() - cpu)
                else:
                    cache_file.unlink(missing_ok=True)
                    result = encoder.embed(ws, batch_size=args.batch_size, device="cpu")
                    embed_s.append(time.perf_counter() - started)
                    embed_cpu.append(time.process_time() - cpu)
                    assert result.n_embedded == len(texts), "the cache must be empty each round"
            print(
                f"round {round_ + 1}: bare encode {bare_s[-1]:.2f} s, embed {embed_s[-1]:.2f} s, "
                f"ratio {bare_s[-1] / embed_s[-1]:.2f}",
                file=sys.stderr,
            )
        _, stored = ws.read_vectors("text", "item")
        max_diff = float(np.abs(stored - bare).max())
    ratios = [b / e for b, e in zip(bare_s, embed_s, strict=True)]
    import torch

    print(
        f"{args.items:,} texts, batch size {args.batch_size}, MiniLM on the CPU, {torch.get_num_threads()} torch "
        f"threads, {args.repeats} interleaved rounds; load average at the end: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs\n"
    )
    print("| side | median seconds | texts / s | median CPU seconds |")
    print("|---|---|---|---|")
    for name, wall, cpu in (
        ("bare `SentenceTransformer.encode`", bare_s, bare_cpu),
        ("`complement embed` (empty cache)", embed_s, embed_cpu),
    ):
        print(f"| {name} | {np.median(wall):.2f} | {args.items / np.median(wall):,.0f} | {np.median(cpu):.2f} |")
    cpu_ratios = [b / e for b, e in zip(bare_cpu, embed_cpu, strict=True)]
    print(
        f"\nembed / bare encode speed: {np.median(ratios):.2f}x (median of the per-round ratios "
        f"{', '.join(f'{r:.2f}' for r in ratios)}); in process CPU time {np.median(cpu_ratios):.2f}x; "
        f"max |embed - bare| = {max_diff:.1e}"
    )


if __name__ == "__main__":
    main()
