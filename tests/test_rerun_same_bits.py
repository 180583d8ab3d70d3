"""Commands that write a table give the same bits however the work was split: reruns, shards, a cache that
already holds part of the answer. (The diagnostics' side of this promise: tests/test_exact_means.py.)"""

from __future__ import annotations

import numpy as np

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
