"""The embedding cache: vectors of one model keyed by the SHA-256 of the text they encode.

One Parquet file per model identity (``text_sha256 VARCHAR, vector FLOAT[]``), rewritten atomically,
so a rerun of ``complement embed`` encodes only texts it has not seen with that model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import atomic


def text_hash(text: str) -> str:
    """SHA-256 (hex) of the text's UTF-8 bytes: the cache key beside the model identity."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors of one model identity keyed by text hash, in one Parquet file (rewritten atomically)."""

    def __init__(self, path: Path):
        self.path = path
        self.index: dict[str, int] = {}
        self.matrix = np.zeros((0, 0), dtype=np.float32)
        self._seen = _stamp(path)  # the file as last read or written here
        if path.exists():
            table = pq.read_table(path)
            hashes = table.column("text_sha256").to_pylist()
            if hashes:
                flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
                self.matrix = flat.astype(np.float32, copy=False).reshape(len(hashes), -1)
                self.index = {h: i for i, h in enumerate(hashes)}

    @classmethod
    def for_model(cls, ws, identity: str) -> EmbeddingCache:
        return cls(ws.cache_dir / "embeddings" / f"{identity}.parquet")

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def add(self, hashes: list[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        start = len(self.index)
        self.matrix = vectors.copy() if start == 0 else np.vstack([self.matrix, vectors])
        self.index.update({h: start + i for i, h in enumerate(hashes)})

    def lookup(self, hashes: list[str]) -> np.ndarray:
        return self.matrix[[self.index[h] for h in hashes]]

    def save(self) -> None:
        """Write the cache, keeping what other processes (the shards of one embed) saved meanwhile: the
        file on disk is merged in under a lock, so concurrent saves lose no vector."""
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _stamp(self.path) not in (None, self._seen):  # another process saved since
                on_disk = EmbeddingCache(self.path)
                missing = [h for h in on_disk.index if h not in self.index]
                if missing and (not self.index or on_disk.matrix.shape[1] == self.matrix.shape[1]):
                    self.add(missing, on_disk.lookup(missing))
            self._write()

    def _write(self) -> None:
        n, d = self.matrix.shape
        offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32))
        vectors = pa.ListArray.from_arrays(offsets, pa.array(self.matrix.ravel()))
        hashes = sorted(self.index, key=self.index.__getitem__)
        atomic.write_parquet(
            pa.table({"text_sha256": pa.array(hashes, pa.string()), "vector": vectors}),
            self.path,
        )
        self._seen = _stamp(self.path)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What identifies a version of the cache file (it is replaced atomically, so a new inode)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
