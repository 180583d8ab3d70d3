"""Atomic writes: a temporary file in the same folder, then ``os.replace``.
An interrupted command never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The nearest existing folder above ``path`` when it is no folder but a file (writing ``path`` would
    need it to be one), else None."""
    for parent in Path(os.path.abspath(Path(path).expanduser())).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path (hidden, ``suffix``) beside ``path``; rename it onto ``path`` when the
    block succeeds, remove it when the block raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; tables are ordinary shared files
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_parquet(table: pa.Table, path: str | os.PathLike) -> Path:
    """Write ``table`` to ``path`` atomically (zstd-compressed Parquet)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return Path(path)


def write_text(text: str, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
