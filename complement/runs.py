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
    #: what the step reads (catalog keys such as ``interactions``, ``items#ids``, ``embeddings/semantic``)
    inputs: list[str] | None = None
    #: the command that redoes the step, named when its output goes stale
    made_by: str | None = None
    #: lock ``view`` against other writers for the step (off for steps that only read it, as probes)
    lock_view: bool = True


def run_row(record: RunRecord, started: dt.datetime, seconds: float) -> pa.Table:
    """The ``runs`` row of a finished step."""
    from . import tables

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
    return tables.conform("runs", row)


def append_run(workspace: Workspace, record: RunRecord, started: dt.datetime, seconds: float) -> None:
    """Add one row to ``runs``: with the workspace's open transaction, else as its own commit.
    Rows go to files of their own, so two commands never rewrite each other's rows."""
    with workspace.transaction() as txn:
        txn.add_runs(run_row(record, started, seconds))


@contextlib.contextmanager
def recorded(workspace: Workspace, record: RunRecord) -> Iterator[RunRecord]:
    """Time the block and commit its writes together with ``record``'s runs row when it succeeds
    (nothing at all when it raises). ``record.view`` is locked for the block; ``record.inputs`` and
    ``record.made_by`` become the lineage of what it writes. The block may fill ``record.rows`` and
    ``record.metrics``."""
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    made_by = record.made_by or f"complement {record.step}" + (f" --view {record.view}" if record.view else "")
    inputs = tuple(record.inputs) if record.inputs is not None else None
    with workspace.transaction(record.view if record.lock_view else None, inputs=inputs, made_by=made_by) as txn:
        yield record
        txn.add_runs(run_row(record, started, time.perf_counter() - t0))
