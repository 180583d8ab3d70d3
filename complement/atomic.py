"""Atomic writes: a temporary file in the same folder, then ``os.replace``.
An interrupted command never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ComplementError


def file_in_the_way(path: str | os.PathLike) -> Path | None:
    """The nearest existing folder above ``path`` when it is no folder but a file (writing ``path`` would
    need it to be one), else None."""
    for parent in Path(os.path.abspath(Path(path).expanduser())).parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


class WriteError(ComplementError, OSError):
    """A write the operating system refused, said of the path asked for (never of the temporary file beside
    it) and why: ``cannot write out/x.csv: the folder out is not writable (permission denied)``. An
    :class:`OSError` still (its ``errno`` and ``filename``, the path asked for), for code that handles those."""

    def __init__(self, number: int | None, why: str, path: Path) -> None:
        super().__init__(number, why, str(path))
        self.message = f"cannot write {path}: {why}"

    def __str__(self) -> str:
        return self.message


#: the causes said in words of their own (the others as the operating system words them)
_CAUSES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
}


def _cause(exc: OSError) -> str:
    return _CAUSES.get(exc.errno or 0) or exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _folder_refused(exc: OSError, path: Path) -> OSError:
    """Why no file can be made in ``path``'s folder: it does not exist, or is not writable, or the device says no."""
    folder = path.parent
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):  # a file where a folder should be: the CLI names the file
        return exc
    if not folder.is_dir():
        why = f"the folder {folder} does not exist and cannot be made ({_cause(exc)})"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        why = f"the folder {folder} is not writable ({_cause(exc).lower()})"
    elif exc.errno in _CAUSES:
        why = _CAUSES[exc.errno]
    else:  # e.g. /proc, which exists but takes no new files (ENOENT)
        why = f"the folder {folder} does not take new files ({_cause(exc)})"
    return WriteError(exc.errno, why, path)


def _named(exc: OSError, tmp: Path, path: Path) -> OSError:
    """An error of the block that names the temporary file, said of ``path`` instead; any other as it is."""
    if isinstance(exc, WriteError):
        return exc
    if exc.filename == str(tmp) or exc.filename2 == str(tmp):
        return WriteError(exc.errno, _cause(exc), path)
    if exc.filename is None and str(tmp) in str(exc):  # e.g. pyarrow's, with the path in its text
        return WriteError(exc.errno, _cause(exc).replace(str(tmp), str(path)), path)
    return exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path (hidden, ``suffix``) beside ``path``; rename it onto ``path`` when the
    block succeeds, remove it when the block raises. A write the system refuses is a :class:`WriteError`
    that names ``path`` and why, not the temporary file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise _folder_refused(exc, path) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except OSError as exc:
            named = _named(exc, tmp_path, path)
            if named is exc:
                raise
            raise named from exc
        os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; tables are ordinary shared files
        try:
            os.replace(tmp_path, path)
        except OSError as exc:
            why = "it is a folder; give a file path" if path.is_dir() else _cause(exc)
            raise WriteError(exc.errno, why, path) from exc
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
