"""Commands that write a table give the same bits however the work was split: reruns, shards, a cache that
already holds part of the answer. (The diagnostics' side of this promise: tests/test_exact_means.py.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from complement.embed import encoder
from complement.workspace import Workspace


def _workspace(path) -> Workspace:
    """150 synthetic items (their text from topic words, of many token counts)."""
    from complement.data.synth import synthesize

    synthesize(path, users=200, items=150, seed=4)
    return Workspace(path)


def test_text_vectors_are_the_same_bits_whole_sharded_or_partly_cached(tmp_path):
    # A batch padded every text to its longest member, and padding moved a vector's last bits: two shards
    # (each batching only its own items) gave 16 of 150 synthetic items other vectors than one whole run.
    # Batches now hold texts of one token count only.
    whole = _workspace(tmp_path / "whole")
    encoder.embed(whole, device="cpu")
    _, expected = whole.read_vectors("text", "item")

    sharded = _workspace(tmp_path / "sharded")
    for i in (1, 2, 3):
        encoder.embed(sharded, device="cpu", shard=f"{i}/3")
    _, got = sharded.read_vectors("text", "item")
    assert np.array_equal(got, expected)

    # the same texts in another view after a few were cached alone: the rest encode without them
    partly = _workspace(tmp_path / "partly")
    encoder.embed(partly, view="first", device="cpu", template="{text}", shard="2/5")
    encoder.embed(partly, view="text", device="cpu")
    _, got = partly.read_vectors("text", "item")
    assert np.array_equal(got, expected)


def _random_vectors(users=12_000, items=1_500, dim=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(users, dim)).astype(np.float32), rng.normal(size=(items, dim)).astype(np.float32)


# A row's float32 scores came from one sgemm over its chunk of users, and a row's last bits depended on its
# place in the BLAS kernel's tile of rows: shard boundaries and the chunk size (which divides by the thread
# count) moved scores and, at near-ties, ranks (two shards against one run: 1,073 to 2,168 rows of 40,050).
# Chunks now start at and hold multiples of ALIGN_ROWS rows of the whole matrix (scoring/search.py).


@pytest.mark.parametrize("cuts", [(5_000,), (7, 4_001, 4_002, 9_999), (191, 193, 11_999)])
def test_topk_of_shards_is_the_same_bits_as_one_whole_run(cuts):
    from complement.scoring.search import topk_indices

    users, items = _random_vectors()
    whole = topk_indices(users, items, 20, device="cpu")
    edges = [0, *cuts, len(users)]
    parts = [topk_indices(users[a:b], items, 20, device="cpu", row_offset=a) for a, b in itertools.pairwise(edges)]
    assert np.array_equal(np.vstack([p[1] for p in parts]), whole[1])
    assert np.array_equal(np.vstack([p[0] for p in parts]), whole[0])


@pytest.mark.parametrize("items", [150, 1_500, 30_000])
def test_topk_is_the_same_bits_on_one_two_or_three_threads_and_any_aligned_chunk(items):
    import torch

    from complement.scoring.search import topk_indices

    users, item_vecs = _random_vectors(users=5_000, items=items, dim=48, seed=items)
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            results.append(topk_indices(users, item_vecs, 10, device="cpu"))
        torch.set_num_threads(2)
        results += [topk_indices(users, item_vecs, 10, device="cpu", chunk_size=size) for size in (192, 500, 4_000)]
    finally:
        torch.set_num_threads(before)
    for got in results[1:]:
        assert np.array_equal(got[1], results[0][1])
        assert np.array_equal(got[0], results[0][0])


def test_neighbors_are_the_same_bits_on_one_thread_and_on_three():
    import torch

    from complement.scoring.search import neighbors_indices

    _, items = _random_vectors(users=1, items=4_000, dim=32, seed=5)
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 3):
            torch.set_num_threads(threads)
            results.append(neighbors_indices(items, 10, device="cpu"))
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(results[0][1], results[1][1]) and np.array_equal(results[0][0], results[1][0])


def test_sharded_topk_views_equal_the_whole_view(tmp_path):
    """Through the workspace: ``topk --shard I/N`` (each shard its own user range) commits the whole view's rows."""
    from conftest import synthetic_with_random_views

    from complement.scoring import write_topk

    ws = synthetic_with_random_views(tmp_path / "ws", ["a"], dim=16, users=1_000, items=300, seed=2)
    write_topk(ws, "a", k=20, device="cpu")
    whole = ws.query("SELECT user_id, rank, item_id, score FROM topk WHERE view = 'a' ORDER BY 1, 2").to_pylist()
    for i in (1, 2, 3):
        write_topk(ws, "a", k=20, device="cpu", shard=f"{i}/3")  # the last shard commits them as the view
    got = ws.query("SELECT user_id, rank, item_id, score FROM topk WHERE view = 'a' ORDER BY 1, 2").to_pylist()
    assert got == whole


_CCA_CHILD = """
import sys
from conftest import synthetic_with_random_views
from complement.fusion.run import fuse
ws = synthetic_with_random_views(sys.argv[1], ["a", "b"], dim=64, users=300, items=1_682, seed=3)
fuse(ws, "a,b", "cca", "cca", device="cpu")
rows = ws.query("SELECT user_idx, rank, item_idx, score FROM topk WHERE view = 'cca' ORDER BY 1, 2").to_pylist()
print(repr([tuple(r.values()) for r in rows]))
"""


@pytest.mark.slow  # two Pythons with torch
def test_cca_is_the_same_bits_on_one_thread_and_on_three(tmp_path):
    """``fuse --method cca`` in processes with 1 and 3 BLAS/OpenMP threads. Its float64 subspace and maps were
    numpy products, whose sums OpenBLAS splits by the thread count (at 1,682 items of 64-d: ``x.T @ y`` differs
    with 3 threads, not at 2,000): the stored scores' last bits moved with the thread count (up to 2e-15 on
    ml-100k). They are now torch products on one CPU thread."""
    import subprocess
    import sys

    from child_env import child_env

    outputs = []
    for threads in ("1", "3"):
        env = child_env(threads)
        child = subprocess.run(
            [sys.executable, "-c", _CCA_CHILD, str(tmp_path / f"ws{threads}")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        outputs.append(child.stdout.strip().splitlines()[-1])
    assert outputs[0] == outputs[1]
