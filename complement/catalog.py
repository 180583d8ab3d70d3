"""The workspace catalog: which Parquet files make up each table now, and what each was made from.

``tables/_catalog.json`` lists, for every table (``items``) and every part of a partitioned table
(``topk/lightgcn``), its files, a content fingerprint, its lineage (the fingerprints of the inputs it
was made from) and the command that refreshes it. A command stages its files in a private folder and
commits them in one step: under the workspace lock the staged files are renamed into place and the
catalog is replaced atomically (``os.replace``). A crash at any instant leaves either the previous
catalog, whose files are all still there, or the new one; files no catalog names are removed by the
first later commit made while no other command is reading (:func:`reading`: a command that read an
older catalog may still open the files it named). docs/design.md ("Storage") gives the reasons for
this design.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkspaceError

CATALOG_NAME = "_catalog.json"
STAGING_DIR = ".staging"
LOCKS_DIR = ".locks"
READERS_LOCK = "readers"  # under LOCKS_DIR: held shared by every command that may read table files
FORMAT = 1


@dataclass
class Entry:
    """One table, or one part (view / probe run) of a partitioned table."""

    files: list[str]  # relative to the tables folder
    fingerprint: str = ""
    lineage: dict[str, str] = field(default_factory=dict)  # input key -> its fingerprint when read
    made_by: str = ""  # the command that rebuilds it
    facets: dict[str, str] = field(default_factory=dict)  # fingerprints of parts of it (items#ids, ...)
    written_at: str = ""
    sizes: dict[str, int] = field(default_factory=dict)  # file -> bytes when committed (tables.check_tables)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            files=list(data.get("files", [])),
            fingerprint=data.get("fingerprint", ""),
            lineage=dict(data.get("lineage", {})),
            made_by=data.get("made_by", ""),
            facets=dict(data.get("facets", {})),
            written_at=data.get("written_at", ""),
            sizes={str(k): int(v) for k, v in data.get("sizes", {}).items()},
        )


@dataclass
class Catalog:
    version: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)

    def fingerprint_of(self, key: str) -> str | None:
        """The fingerprint of an entry (``topk/x``) or of a facet of one (``items#ids``)."""
        name, _, facet = key.partition("#")
        entry = self.entries.get(name)
        if entry is None:
            return None
        return entry.facets.get(facet) if facet else entry.fingerprint

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": self.version,
                "entries": {k: asdict(e) for k, e in sorted(self.entries.items())},
            },
            indent=1,
            sort_keys=True,
        )


def entry_key(table: str, part: str | None = None) -> str:
    return table if part is None else f"{table}/{part}"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def combine(digests: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()[:16]


def load(tables_dir: Path) -> Catalog:
    """The committed catalog; a workspace written before catalogs existed is adopted as it lies."""
    path = tables_dir / CATALOG_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # no catalog yet, or the workspace path is a file
        return _adopt_legacy(tables_dir)
    try:
        data = json.loads(text)
        entries = {k: Entry.from_json(v) for k, v in data["entries"].items()}
        return Catalog(version=int(data["version"]), entries=entries)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WorkspaceError(f"{path} is damaged ({exc}); the workspace cannot be read safely") from None


def _stat_fingerprint(path: Path) -> str:
    """A legacy file's fingerprint from its size and mtime: the catalog is loaded on every table
    lookup, so hashing every file's bytes there would read the whole workspace again each time."""
    stat = path.stat()
    return combine([f"legacy:{stat.st_size}:{stat.st_mtime_ns}"])


def _adopt_legacy(tables_dir: Path) -> Catalog:
    """``tables/<name>.parquet`` and ``tables/<name>/<part>.parquet`` of a pre-catalog workspace,
    taken as they are (lineage unknown, so never reported stale)."""
    from . import tables

    catalog = Catalog()
    if not tables_dir.is_dir():
        return catalog
    for name in tables.SINGLE_TABLES:
        path = tables_dir / f"{name}.parquet"
        if path.is_file():
            catalog.entries[name] = Entry(files=[path.name], fingerprint=_stat_fingerprint(path))
    for name in tables.PARTITIONED_TABLES:
        folder = tables_dir / name
        if folder.is_dir():
            for path in sorted(folder.glob("*.parquet")):
                catalog.entries[entry_key(name, path.stem)] = Entry(
                    files=[f"{name}/{path.name}"], fingerprint=_stat_fingerprint(path)
                )
    return catalog


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened for fsync
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write(tables_dir: Path, catalog: Catalog) -> None:
    """Replace the catalog file atomically and durably."""
    path = tables_dir / CATALOG_NAME
    tmp = tables_dir / f".{CATALOG_NAME}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(catalog.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(tables_dir)


@contextlib.contextmanager
def flock(path: Path, *, blocking: bool, what: str) -> Iterator[None]:
    """An exclusive advisory lock on the folder ``path`` (created if missing); without ``blocking`` a
    held lock is a clear error. Folders, not files: taking a lock adds no file to the workspace, so a
    command that fails leaves every file byte-identical. The kernel drops the lock when the holder dies."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows has no flock; commands there are not serialised
        yield
        return
    for attempt in range(10):
        try:
            # another command may remove an empty parent (``.staging``) between mkdir's steps: retry
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY)
            break
        except FileNotFoundError:
            if attempt == 9:
                raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise WorkspaceError(
                f"{what} is being written by another command; wait for it to finish and run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_is_free(path: Path) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


# ---- readers -------------------------------------------------------------------------------------
# A process that may read table files named by a catalog it loaded holds the readers lock of that
# tables folder SHARED: one fd per tables folder, with a count of the scopes that hold it, so scopes
# nest (a transaction, a query inside it, a DuckDB connection that outlives both). A commit deletes
# superseded files only when it can hold the lock EXCLUSIVELY, i.e. when no other process reads.


@dataclass
class _Hold:
    fd: int | None  # None: no lock could be taken (no flock, or a read-only folder): nothing to hold
    count: int = 0


_holds: dict[Path, _Hold] = {}
_holds_mutex = threading.RLock()  # RLock: a finalizer (below) may run inside this module's own calls
_command: list[set[Path]] = []  # :func:`held_for_command`'s folders, innermost last


def _open_readers_lock(tables_dir: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock, and an open file cannot be deleted there
        return None
    if not tables_dir.is_dir():  # nothing to read; a read must not create the workspace
        return None
    fd = _open_lock_folder(tables_dir)
    if fd is None:  # a workspace this user may read but not write: no commit here can delete anything
        return None
    # blocks only while a commit holds it exclusively, i.e. while it deletes files no catalog names
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def acquire_reader(tables_dir: Path) -> None:
    """Hold the readers lock of ``tables_dir`` shared (once more); pair with :func:`release_reader`.
    Take it before loading the catalog whose files will be read."""
    with _holds_mutex:
        hold = _holds.get(tables_dir)
        if hold is None:
            hold = _holds[tables_dir] = _Hold(_open_readers_lock(tables_dir))
        elif hold.fd is None:  # the workspace may have been made since (a command that creates it)
            hold.fd = _open_readers_lock(tables_dir)
        hold.count += 1


def release_reader(tables_dir: Path) -> None:
    with _holds_mutex:
        hold = _holds.get(tables_dir)
        if hold is None:
            return
        hold.count -= 1
        if hold.count > 0:
            return
        del _holds[tables_dir]
        if hold.fd is not None:
            os.close(hold.fd)  # closing the only fd of the open file releases its flock


@contextlib.contextmanager
def reading(tables_dir: Path) -> Iterator[None]:
    """Scope in which files named by catalogs loaded inside it stay on disk (see :func:`collect_garbage`)."""
    acquire_reader(tables_dir)
    try:
        yield
    finally:
        release_reader(tables_dir)


def reader_for(obj: object, tables_dir: Path) -> None:
    """Hold the readers lock for as long as ``obj`` (a DuckDB connection whose views name table
    files) lives: released when it is garbage-collected."""
    acquire_reader(tables_dir)
    weakref.finalize(obj, release_reader, tables_dir)


@contextlib.contextmanager
def held_for_command() -> Iterator[None]:
    """For a whole CLI command: every tables folder whose catalog the command loads (:func:`note_reader`)
    keeps its readers lock until the command ends, so files named by any catalog it read — kept in
    variables, DuckDB views or Arrow datasets — stay until then."""
    _command.append(set())
    try:
        yield
    finally:
        for tables_dir in _command.pop():
            release_reader(tables_dir)


def note_reader(tables_dir: Path) -> None:
    """A catalog of ``tables_dir`` is about to be loaded for reading: inside :func:`held_for_command`,
    hold the readers lock until the command ends."""
    if _command and tables_dir not in _command[-1]:
        acquire_reader(tables_dir)
        _command[-1].add(tables_dir)


@contextlib.contextmanager
def _no_other_reader(tables_dir: Path) -> Iterator[bool]:
    """Whether no other process holds the readers lock of ``tables_dir`` (then it is held
    exclusively for the block). Never waits. Call under the catalog lock.

    A process converts its own shared lock; Linux does not convert atomically, and a failed
    non-blocking conversion has dropped the shared lock, so it is taken again. Between the two no
    other process can delete anything: only a commit does, under the catalog lock we hold."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield True
        return
    with _holds_mutex:
        hold = _holds.get(tables_dir)
        own = hold.fd if hold is not None else None
        fd = own if own is not None else _open_lock_folder(tables_dir)
        if fd is None:
            yield True  # no lock folder can exist, so no reader holds one
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if own is not None:
                    fcntl.flock(fd, fcntl.LOCK_SH)
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_SH if own is not None else fcntl.LOCK_UN)
        finally:
            if own is None:
                os.close(fd)


def _open_lock_folder(tables_dir: Path) -> int | None:
    """An fd of the readers lock folder (made if missing), None when it cannot be made or opened."""
    path = tables_dir / LOCKS_DIR / READERS_LOCK
    try:
        path.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def collect_garbage(tables_dir: Path, catalog: Catalog) -> None:
    """Remove Parquet files no entry names (superseded, or left by a crash between rename and commit)
    and staging folders of commands that are gone. Call with the catalog lock held.

    A command that loaded an older catalog may still open the files it named, so table files are
    removed only while no other process holds the readers lock (:func:`reading`): superseded files
    are removed by the first commit made while no other command is reading."""
    referenced = {f for entry in catalog.entries.values() for f in entry.files}
    # only the table folders: staging and lock folders change under other commands while we walk
    table_folders = [p for p in tables_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    with _no_other_reader(tables_dir) as alone:
        if alone:
            for path in [
                *tables_dir.glob("*.parquet"),
                *(f for folder in table_folders for f in folder.rglob("*.parquet")),
            ]:
                if path.relative_to(tables_dir).as_posix() not in referenced:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
    staging = tables_dir / STAGING_DIR
    if staging.is_dir():
        for folder in staging.iterdir():
            try:  # another command may rename its folder away meanwhile (hidden -> its name)
                being_made = folder.name.startswith(".") and time.time() - folder.stat().st_mtime < 3600
            except FileNotFoundError:
                continue
            if folder.is_dir() and not being_made and lock_is_free(folder):  # its command is gone
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
    for folder in sorted((p for top in table_folders for p in [top, *top.rglob("*")] if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only empty ones go
