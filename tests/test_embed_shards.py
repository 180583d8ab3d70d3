"""`complement embed --shard I/N`: N shards together equal the unsharded text vectors; the view appears
only when the last shard is in; shards of another N, or of changed texts, are refused; the embedding
cache keeps what concurrent shards saved."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from complement.embed import encoder
from complement.embed.cache import EmbeddingCache
from complement.errors import ComplementError, ConfigError
from complement.workspace import Workspace

N_ITEMS = 11  # ranges of unequal size for N = 2, 3


class FakeModel:
    """A deterministic stand-in for a sentence-transformers model: [len(text), sum of code points, 1]."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts, **kwargs):
        self.encoded += list(texts)
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


@pytest.fixture
def fake(monkeypatch):
    model = FakeModel()
    monkeypatch.setattr(encoder, "load_model", lambda *args, **kwargs: model)
    return model


def make_workspace(path, texts: list[str] | None = None) -> Workspace:
    ws = Workspace(path)
    texts = texts or [f"item text number {n} " + "x" * n for n in range(N_ITEMS)]
    ids = [f"i{n:02d}" for n in range(len(texts))]
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": ids,
                "item_idx": list(range(len(ids))),
                "title": ids,
                "text": texts,
                "n_train": [1] * len(ids),
                "pop_group": ["cold"] * len(ids),
            }
        ),
    )
    return ws


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_shards_together_equal_the_unsharded_vectors(tmp_path, fake, n):
    whole = make_workspace(tmp_path / "whole")
    encoder.embed(whole, view="text", device="cpu")
    expected_ids, expected = whole.read_vectors("text", "item")

    ws = make_workspace(tmp_path / "sharded")
    for i in range(1, n + 1):
        if i < n:  # the view is not there until every shard is in
            encoder.embed(ws, view="text", device="cpu", shard=f"{i}/{n}")
            assert ws.parts("embeddings") == []
        else:
            encoder.embed(ws, view="text", device="cpu", shard=(i, n))
    assert ws.parts("embeddings") == ["text"]
    ids, vectors = ws.read_vectors("text", "item")
    assert ids.tolist() == expected_ids.tolist()
    np.testing.assert_array_equal(vectors, expected)
    stored = ws.read_table("embeddings", "text")
    assert sorted(stored.column("id").to_pylist()) == sorted(expected_ids.tolist())  # each item once


def test_each_shard_encodes_only_its_items(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    first = encoder.embed(ws, view="text", device="cpu", shard="1/2")
    assert first.n_items == N_ITEMS // 2 and len(fake.encoded) == N_ITEMS // 2
    second = encoder.embed(ws, view="text", device="cpu", shard="2/2")
    assert second.n_items == N_ITEMS - N_ITEMS // 2 and len(fake.encoded) == N_ITEMS


def test_a_shard_of_another_n_is_refused_before_encoding(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    encoder.embed(ws, view="text", device="cpu", shard="1/3")
    before = len(fake.encoded)
    with pytest.raises(ComplementError, match=r"same N \(--shard I/3\)"):
        encoder.embed(ws, view="text", device="cpu", shard="2/2")
    assert len(fake.encoded) == before


def test_shards_rerun_after_the_texts_changed_restart_the_staging(tmp_path, fake):
    # a shard rerun after the texts changed was refused by its own earlier copy; now it drops the out-of-date
    # shards and the rerun shards commit the view of the new texts
    ws = make_workspace(tmp_path / "ws")
    encoder.embed(ws, view="text", device="cpu", shard="1/2")
    encoder.embed(ws, view="text", device="cpu", shard="2/2")
    texts = [f"another text {n}" for n in range(N_ITEMS)]
    make_workspace(tmp_path / "ws", texts=texts)
    encoder.embed(ws, view="text", device="cpu", shard="1/2")  # the view was committed: no staged shard
    ws = make_workspace(tmp_path / "ws2")
    encoder.embed(ws, view="text", device="cpu", shard="1/2")
    make_workspace(tmp_path / "ws2", texts=texts)
    encoder.embed(ws, view="text", device="cpu", shard="1/2")
    encoder.embed(ws, view="text", device="cpu", shard="2/2")
    whole = make_workspace(tmp_path / "whole", texts=texts)
    encoder.embed(whole, view="text", device="cpu")
    assert ws.read_table("embeddings", "text").equals(whole.read_table("embeddings", "text"))


def test_a_shard_with_another_template_is_refused_before_encoding(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    encoder.embed(ws, view="text", device="cpu", shard="1/2")
    before = len(fake.encoded)
    with pytest.raises(ConfigError, match=r"shard 1/2 of view 'text' was written with .*template=None, normalize"):
        encoder.embed(ws, view="text", device="cpu", shard="2/2", template="{title}")
    assert len(fake.encoded) == before
    encoder.embed(ws, view="text", device="cpu", shard="1/2", template="{title}")  # a shard rewritten replaces itself
    encoder.embed(ws, view="text", device="cpu", shard="2/2", template="{title}")
    assert ws.parts("embeddings") == ["text"]


def test_a_shard_with_another_precision_is_refused_before_encoding(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    encoder.embed(ws, view="text", device="cpu", shard="1/2", precision="float64")
    before = len(fake.encoded)
    with pytest.raises(
        ConfigError, match=r"was written with .*precision=float64, this one would be .*precision=float32"
    ):
        encoder.embed(ws, view="text", device="cpu", shard="2/2")
    assert len(fake.encoded) == before
    encoder.embed(ws, view="text", device="cpu", shard="2/2", precision="float64")
    assert ws.parts("embeddings") == ["text"]


def test_an_unsharded_embed_replaces_staged_shards(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    encoder.embed(ws, view="text", device="cpu", shard="1/2")
    encoder.embed(ws, view="text", device="cpu")
    assert ws.parts("embeddings") == ["text"]
    assert not [k for k in ws.catalog().entries if "@" in k]


def test_a_view_with_user_vectors_is_not_sharded(tmp_path, fake):
    ws = make_workspace(tmp_path / "ws")
    ws.write_vectors("mixed", "user", ["u0"], np.ones((1, 3)))
    with pytest.raises(ConfigError, match="user vectors"):
        encoder.embed(ws, view="mixed", device="cpu", shard="1/2")
    assert fake.encoded == []


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1-2", "a/b"])
def test_a_bad_shard_is_one_clear_error(tmp_path, fake, bad):
    ws = make_workspace(tmp_path / "ws")
    with pytest.raises(ComplementError, match="--shard"):
        encoder.embed(ws, view="text", device="cpu", shard=bad)
    assert ws.parts("embeddings") == []


def test_the_cli_refuses_shard_with_from(tmp_path, capsys):
    from complement.cli.app import main

    ws = make_workspace(tmp_path / "ws")
    np.save(tmp_path / "v.npy", np.ones((N_ITEMS, 3), dtype=np.float32))
    with pytest.raises(SystemExit) as exit_info:
        main(["embed", "-w", str(ws.root), "--from", str(tmp_path / "v.npy"), "--shard", "1/2"])
    assert exit_info.value.code == 1
    assert "--shard applies to embedding text" in capsys.readouterr().err
    assert ws.parts("embeddings") == []


def test_concurrent_cache_saves_keep_every_vector(tmp_path):
    path = tmp_path / "cache.parquet"
    first, second = EmbeddingCache(path), EmbeddingCache(path)  # both loaded before either saved
    first.add(["a", "b"], np.array([[1.0, 0.0], [2.0, 0.0]]))
    second.add(["c"], np.array([[3.0, 0.0]]))
    first.save()
    second.save()
    merged = EmbeddingCache(path)
    assert sorted(merged.index) == ["a", "b", "c"]
    np.testing.assert_array_equal(merged.lookup(["a", "b", "c"])[:, 0], [1.0, 2.0, 3.0])
