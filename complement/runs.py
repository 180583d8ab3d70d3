"""The ``runs`` manifest: one row per step run, with its settings, seed, timings and versions."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import platform
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from .workspace import Workspace


def config_hash(params: dict[str, Any]) -> str:
    """A stable short hash of a step's settings."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("complement", "duckdb", "torch", "numpy", "pyarrow", "sentence-transformers"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


@dataclass
class RunRecord:
    step: str
    view: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    rows: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: the step's own content key, when it has one (``complement run``); else a hash of ``params``
    config_hash: str | None = None


def append_run(workspace: "Workspace", record: RunRecord, started: dt.datetime, seconds: float) -> None:
    """Append one row to ``runs`` (the file is rewritten atomically)."""
    finished = started + dt.timedelta(seconds=seconds)
    row = pa.table(
        {
            "run_id": [record.run_id],
            "step": [record.step],
            "view": [record.view],
            "config_hash": [record.config_hash or config_hash(record.params)],
            "seed": [record.seed],
            "started_at": pa.array([started], pa.timestamp("us", tz="UTC")),
            "finished_at": pa.array([finished], pa.timestamp("us", tz="UTC")),
            "seconds": [float(seconds)],
            "rows": [record.rows],
            "params": [json.dumps(record.params, sort_keys=True, default=str)],
            "metrics": [json.dumps(record.metrics, sort_keys=True, default=str)],
            "versions": [json.dumps(versions(), sort_keys=True)],
        }
    )
    from . import tables

    row = tables.conform("runs", row)
    with _runs_lock(workspace):  # read-modify-write: two commands writing one workspace must not lose a row
        if workspace.has_table("runs"):
            import pyarrow.parquet as pq

            old = tables.conform("runs", pq.read_table(workspace.table_path("runs")))
            row = pa.concat_tables([old, row], promote_options="default")
        workspace.write_table("runs", row)


@contextlib.contextmanager
def _runs_lock(workspace: "Workspace"):
    """An exclusive advisory lock on ``tables/.runs.lock`` (POSIX ``flock``; no lock where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = workspace.table_path("runs").with_name(".runs.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def recorded(workspace: "Workspace", record: RunRecord) -> Iterator[RunRecord]:
    """Time the block and append ``record`` to ``runs`` when it succeeds.
    The block may fill ``record.rows`` and ``record.metrics``."""
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    yield record
    append_run(workspace, record, started, time.perf_counter() - t0)
