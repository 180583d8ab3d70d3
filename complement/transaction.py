"""A command's writes as one unit: staged privately, committed all-or-nothing through the catalog.

``with ws.transaction(view="lightgcn"):`` locks the view against a second writer (a clear error,
not a wait), and every ``write_table`` / ``write_vectors`` / runs row inside the block is staged in
``tables/.staging/<id>/``. Reads inside the block see the catalog as it was when the block began
plus what the block staged. When the outermost block ends normally the staged files are renamed into
place and the catalog is replaced in one ``os.replace``; when it raises (Ctrl-C, a full disk, a bug)
the staging folder is removed and the workspace is exactly as before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import catalog as cat
from . import tables
from .errors import WorkspaceError

if TYPE_CHECKING:
    from .workspace import Workspace

# Inputs named ``items#ids`` depend on the item ids only, ``items#text`` on ids and text: text vectors
# stay fresh when a new split changes ``items.n_train``.
FACETS: dict[str, dict[str, tuple[str, ...]]] = {
    "items": {"ids": ("item_id",), "text": ("item_id", "title", "text")},
    "users": {"ids": ("user_id",)},
}
RUNS_FILES_BEFORE_COMPACTION = 64
CRASH_ENV = "COMPLEMENT_TEST_CRASH_AT"  # tests only: die (as kill -9 would) at a named point of a commit


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(137)


@dataclass
class Scope:
    inputs: tuple[str, ...] = ()
    made_by: str = ""


def _facet_digest(table: pa.Table, columns: tuple[str, ...]) -> str:
    sink = pa.BufferOutputStream()
    selected = table.select(list(columns)).combine_chunks()
    with pa.ipc.new_stream(sink, selected.schema) as writer:
        writer.write_table(selected)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:16]


def _write_durably(table: pa.Table, path: Path, row_group_rows: int | None = None) -> str:
    """Write Parquet to ``path`` (through the one atomic writer, fsynced) and return its content digest."""
    from . import atomic

    with atomic.atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_rows)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
    return cat.file_digest(path)


@dataclass
class Transaction:
    ws: Workspace
    id: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    )
    snapshot: cat.Catalog = field(default_factory=cat.Catalog)
    staged: dict[str, cat.Entry] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    runs_files: list[str] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    locks: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    locked: set[str] = field(default_factory=set)
    adopted: dict[str, cat.Entry] = field(default_factory=dict)
    _counter: int = 0
    _reading: bool = False

    # ---- lifecycle ----------------------------------------------------------------------------
    def begin(self) -> None:
        # the snapshot's files are read for the whole transaction: no other commit may delete them
        cat.acquire_reader(self.ws.tables_dir)
        self._reading = True
        self.snapshot = cat.load(self.ws.tables_dir)

    @property
    def staging_dir(self) -> Path:
        return self.ws.tables_dir / cat.STAGING_DIR / self.id

    def _ensure_staging(self) -> Path:
        if not self.staging_dir.is_dir():
            # The folder's own lock tells a garbage collection that its owner is alive. It is made and
            # locked under a hidden name first, then renamed (the lock follows it), so no collector
            # ever sees it unlocked.
            hidden = self.staging_dir.with_name(f".{self.id}")
            self.locks.enter_context(cat.flock(hidden, blocking=True, what="staging"))
            os.rename(hidden, self.staging_dir)
        return self.staging_dir

    def lock(self, name: str) -> None:
        """Hold the write lock of view (or data table group) ``name`` until the transaction ends."""
        if name in self.locked:
            return
        if name == "data":
            what = "the data tables (items, users, interactions)"
        elif name.startswith("view-"):
            what = f"view '{name[5:]}'"
        else:
            what = f"'{name}'"
        self.locks.enter_context(cat.flock(self.ws.tables_dir / cat.LOCKS_DIR / name, blocking=False, what=what))
        self.locked.add(name)

    def close(self) -> None:
        shutil.rmtree(self.staging_dir, ignore_errors=True)
        self.locks.close()
        with contextlib.suppress(OSError):
            self.staging_dir.parent.rmdir()  # only when no other command is staging
        if self._reading:
            self._reading = False
            cat.release_reader(self.ws.tables_dir)

    # ---- what readers inside the transaction see ----------------------------------------------
    def overlay(self) -> cat.Catalog:
        entries = {k: e for k, e in self.snapshot.entries.items() if k not in self.deleted}
        entries.update(self.staged)
        entries.update(self.adopted)
        if self.runs_files:
            runs = entries.get("runs")
            files = (runs.files if runs else []) + self.runs_files
            entries["runs"] = cat.Entry(files=files)
        return cat.Catalog(version=self.snapshot.version, entries=entries)

    # ---- staging ------------------------------------------------------------------------------
    def _next_path(self) -> Path:
        self._counter += 1
        return self._ensure_staging() / f"{self._counter:04d}.parquet.tmp"

    def stage(
        self,
        name: str,
        table: pa.Table,
        part: str | None,
        inputs: tuple[str, ...] | None,
        made_by: str | None,
        *,
        append: bool = False,
    ) -> None:
        """Stage ``table`` as the entry of (name, part); with ``append``, add its files to what this
        transaction already staged for that entry (a view written in chunks, e.g. user ranges)."""
        key = cat.entry_key(name, part)
        if append and FACETS.get(name):
            raise WorkspaceError(f"table '{name}' is written whole, not appended in chunks")
        self.lock(_lock_name(name, part))
        scope = self.scopes[-1] if self.scopes else Scope()
        # a large view: several files of contiguous user_idx ranges, in one entry (tables.user_buckets)
        buckets = tables.user_buckets(name, table)
        row_groups = tables.ROW_GROUP_ROWS if len(buckets) > 1 else None
        paths = [self._next_path() for _ in buckets]
        digests = [_write_durably(piece, path, row_groups) for piece, path in zip(buckets, paths, strict=True)]
        old = self.staged.get(key)
        if old is not None and append:
            old.files += [p.relative_to(self.ws.tables_dir).as_posix() for p in paths]
            old.fingerprint = cat.combine([old.fingerprint, *digests])
            return
        if old is not None:
            for f in old.files:
                with contextlib.suppress(FileNotFoundError):
                    (self.ws.tables_dir / f).unlink()
        facets = {facet: _facet_digest(table, cols) for facet, cols in FACETS.get(name, {}).items()}
        self.staged[key] = cat.Entry(
            files=[p.relative_to(self.ws.tables_dir).as_posix() for p in paths],
            fingerprint=cat.combine(digests),
            lineage={k: "" for k in (inputs if inputs is not None else scope.inputs)},  # resolved at commit
            made_by=made_by or scope.made_by,
            facets=facets,
        )
        self.deleted.discard(key)

    def delete(self, name: str, part: str | None, *, lock: bool = True) -> None:
        key = cat.entry_key(name, part)
        if lock:
            self.lock(_lock_name(name, part))
        self.staged.pop(key, None)
        self.adopted.pop(key, None)
        self.deleted.add(key)

    def adopt(self, name: str, part: str | None, entry: cat.Entry) -> None:
        """Make ``entry``, whose files are already committed (under other entries), the entry of
        ``name``/``part``: a view assembled from its shards' files without copying them."""
        key = cat.entry_key(name, part)
        self.lock(_lock_name(name, part))
        self.staged.pop(key, None)
        self.deleted.discard(key)
        self.adopted[key] = entry

    def add_runs(self, rows: pa.Table) -> None:
        path = self._next_path()
        _write_durably(rows, path)
        self.runs_files.append(path.relative_to(self.ws.tables_dir).as_posix())

    # ---- commit -------------------------------------------------------------------------------
    def _resolve(self, key: str) -> str:
        """The fingerprint of input ``key`` as this transaction saw it: staged here, else as read."""
        base, _, facet = key.partition("#")
        if base in self.staged:
            entry = self.staged[base]
            return (entry.facets.get(facet) if facet else entry.fingerprint) or ""
        return self.snapshot.fingerprint_of(key) or ""

    def commit(self) -> None:
        if not self.staged and not self.deleted and not self.runs_files and not self.adopted:
            return
        tables_dir = self.ws.tables_dir
        _crash_point("staged")
        with cat.flock(tables_dir / cat.LOCKS_DIR / "catalog", blocking=True, what="the catalog"):
            current = cat.load(tables_dir)
            entries = dict(current.entries)
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            for key, entry in self.staged.items():
                final = []
                for i, staged in enumerate(entry.files):
                    suffix = "" if len(entry.files) == 1 else f"-{i:04d}"
                    relative = f"{key}/{self.id}{suffix}.parquet"
                    (tables_dir / relative).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tables_dir / staged, tables_dir / relative)
                    _crash_point("renamed-one")
                    final.append(relative)
                sizes = {f: (tables_dir / f).stat().st_size for f in final}
                lineage = {k: self._resolve(k) for k in entry.lineage if k != key}
                entries[key] = cat.Entry(
                    files=final,
                    fingerprint=entry.fingerprint,
                    lineage={k: v for k, v in lineage.items() if v},
                    made_by=entry.made_by,
                    facets=entry.facets,
                    written_at=now,
                    sizes=sizes,
                )
            for key in self.deleted:
                entries.pop(key, None)
            for key, entry in self.adopted.items():
                entries[key] = cat.Entry(
                    files=list(entry.files),
                    fingerprint=entry.fingerprint,
                    lineage=dict(entry.lineage),
                    made_by=entry.made_by,
                    facets=dict(entry.facets),
                    written_at=now,
                    sizes=dict(entry.sizes),
                )
            if self.runs_files:
                entries["runs"] = self._commit_runs(entries.get("runs"))
            new = cat.Catalog(version=current.version + 1, entries=entries)
            _crash_point("before-catalog")
            cat.write(tables_dir, new)
            _crash_point("committed")
            cat.collect_garbage(tables_dir, new)

    def _commit_runs(self, old: cat.Entry | None) -> cat.Entry:
        tables_dir = self.ws.tables_dir
        files = list(old.files) if old else []
        latest = _latest_finish(tables_dir, files)
        moved = []
        for staged in self.runs_files:
            latest = _finish_after(tables_dir / staged, latest)
            relative = f"runs/{Path(staged).name.split('.')[0]}-{self.id}.parquet"
            (tables_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tables_dir / staged, tables_dir / relative)
            moved.append(relative)
        files += moved
        if len(files) > RUNS_FILES_BEFORE_COMPACTION:
            merged = pa.concat_tables(
                [tables.conform("runs", pq.read_table(tables_dir / f)) for f in files], promote_options="default"
            )
            relative = f"runs/compacted-{self.id}.parquet"
            tmp = tables_dir / f"runs/.compacted-{self.id}.tmp"
            _write_durably(merged, tmp)
            os.replace(tmp, tables_dir / relative)
            files = [relative]
        sizes = {f: size for f in files if (size := (old.sizes if old else {}).get(f)) is not None}
        sizes.update({f: (tables_dir / f).stat().st_size for f in files if f not in sizes})
        return cat.Entry(files=files, fingerprint=cat.combine(files), sizes=sizes)


def _latest_finish(tables_dir: Path, files: list[str]) -> dt.datetime | None:
    """The latest ``finished_at`` among the committed ``runs`` rows of ``files``."""
    latest = None
    for name in files:
        column = pq.read_table(tables_dir / name, columns=["finished_at"])["finished_at"]
        value = pc.max(column.cast(tables.SCHEMAS["runs"].field("finished_at").type)).as_py()  # aware, UTC
        if value is not None and (latest is None or value > latest):
            latest = value
    return latest


def _finish_after(path: Path, latest: dt.datetime | None) -> dt.datetime | None:
    """Make the staged ``runs`` rows of ``path`` finish after ``latest`` and after each other, rewriting the file
    only when the clock says otherwise (a tie to the microsecond, or a clock stepped back): ``finished_at`` then
    orders a workspace's rows in commit order, which is what "the latest run" means wherever it is read
    (``complement run``'s skip check, the shards' settings, ``check_no_seen_items``). Called under the catalog
    lock, so no other commit comes between. Returns the rows' latest ``finished_at``."""
    rows = pq.read_table(path)
    finished = rows["finished_at"].to_pylist()
    fixed = []
    for value in finished:
        if value is not None:
            if latest is not None and value <= latest:
                value = latest + dt.timedelta(microseconds=1)
            latest = value
        fixed.append(value)
    if fixed != finished:
        index = rows.schema.get_field_index("finished_at")
        field_ = rows.schema.field(index)
        _write_durably(rows.set_column(index, field_, pa.array(fixed, field_.type)), path)
    return latest


def _lock_name(name: str, part: str | None) -> str:
    if name in ("items", "users", "interactions"):
        return "data"
    if name in ("embeddings", "topk", "neighbors"):
        return f"view-{part}"
    return f"{name}-{part}"
