"""``run_probe``: fit every mapper on every shift and seed, measure it, and write the ``probes`` table.

One ``probes`` row per (run × mapper × shift × item_set × metric × seed). ``item_set`` is ``fit``
or ``held_out`` (plus ``all`` for ``rec_jaccard`` with every item mapped); the shared-vs-private
estimate is written with ``mapper = 'cca'``, ``shift = 'all'``, ``item_set = 'all'``. The fit / held-out item ids of
each shift and seed are
written to ``cache/probes/<run_id>_item_sets.parquet`` (their counts are the ``n_items`` rows)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .. import atomic, checks
from ..checks import seed as check_seed
from ..device import resolve_device
from ..errors import ConfigError, WorkspaceError, unknown_name
from ..progress import message, progress
from ..runs import RunRecord, recorded
from ..workspace import Workspace
from . import metrics
from .base import make_mapper, parse_mappers
from .shared import DEFAULT_THRESHOLD, shared_private
from .shifts import parse_shifts, split_items

DEFAULT_MAPPERS = ("linear", "mlp1", "mlp2", "mlp3")
DEFAULT_SHIFTS = ("random", "popularity")
ITEM_SETS = ("fit", "held_out")
REC_JACCARD_USERS = 1000
"""Test users sampled (seeded by the probe seed) for Rec Jaccard, as in the paper."""


@dataclass(frozen=True)
class Protocol:
    """Defaults and training rules of a probe protocol (``--protocol``)."""

    name: str
    mappers: tuple[str, ...]
    shifts: tuple[str, ...]
    max_epochs: int | None  # None: the mapper's own default (200)
    batch_size: int | None  # None: the mapper's own default (256)
    early_stopping: bool


PROTOCOLS = {
    # Ours: early stopping on a validation slice, the best epoch's weights kept.
    "ours": Protocol("ours", DEFAULT_MAPPERS, DEFAULT_SHIFTS, None, None, True),
    # The paper's: random 80/20 items, MSE, Adam lr 1e-3, batch 1024, a fixed 400 epochs, last weights.
    "paper": Protocol("paper", ("linear", "mlp3"), ("random",), 400, 1024, False),
}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; an unknown name raises :class:`ConfigError` listing the valid ones."""
    key = (name or "").strip().lower()
    if key not in PROTOCOLS:
        raise ConfigError(unknown_name("protocol", name, PROTOCOLS))
    return PROTOCOLS[key]


@dataclass
class ProbeData:
    """Everything a probe reads from the workspace, in ``item_idx`` / ``user_idx`` order."""

    item_ids: np.ndarray
    source: np.ndarray  # n_items x d_source
    target: np.ndarray  # n_items x d_target
    pop_group: np.ndarray
    n_train: np.ndarray
    users: np.ndarray | None  # n_users x d_target target-view user vectors, or None
    # the (user_idx, item_idx) pairs a top-K list masks: the evaluation protocol's train + valid
    # (DEFAULT_EXCLUDE), so probe recall is measured like the views' own test recall
    seen: tuple[np.ndarray, np.ndarray] | None  # None exactly when users is
    test: tuple[np.ndarray, np.ndarray] | None  # None exactly when users is


def _check_view(ws: Workspace, view: str) -> None:
    if ws.is_list_view(view):
        from ..listview import list_view_error  # says how the view was made (its catalog entry's command)

        raise list_view_error(
            ws, view, "it has no item vectors to probe; probes map one view's item vectors onto another's"
        )
    ws.require("embeddings")
    views = ws.views("item")
    if view not in views:
        raise WorkspaceError(unknown_name("view", view, views) + "; a view needs item vectors in `embeddings`")


def load_probe_data(ws: Workspace, source: str, target: str) -> ProbeData:
    """Item vectors of both views, popularity columns, and (when present) target user vectors
    with the masked (train + valid) and test interactions inductive recall needs."""
    from ..scoring.steps import DEFAULT_EXCLUDE, exclude_splits

    _check_view(ws, source)
    _check_view(ws, target)
    ws.require("items")
    item_ids, X = ws.read_vectors(source, "item")
    _, Y = ws.read_vectors(target, "item")
    items = ws.query("SELECT pop_group, n_train FROM items ORDER BY item_idx")
    pop_group = np.asarray(items.column("pop_group").to_pylist(), dtype=object)
    n_train = np.asarray(items.column("n_train").fill_null(0).to_numpy(), dtype=np.int64)
    users = seen = test = None
    try:
        ws.require("users", "interactions")
        _, users = ws.read_vectors(target, "user")
        if users.shape[1] != Y.shape[1]:
            raise WorkspaceError(
                f"view '{target}' user vectors are {users.shape[1]}-d but its item vectors {Y.shape[1]}-d"
            )
        seen = ws.interaction_indices(exclude_splits(DEFAULT_EXCLUDE))
        test = ws.interaction_indices(("test",))
    except WorkspaceError as exc:
        message(f"skipping inductive recall: {exc}")
        users = seen = test = None
    return ProbeData(item_ids, X, Y, pop_group, n_train, users, seen, test)


def rec_users(data: ProbeData, n: int, seed: int) -> np.ndarray | None:
    """The seeded sample of test users Rec Jaccard is measured on (None without user vectors)."""
    if data.users is None or data.test is None:
        return None
    return metrics.sample_users(data.test[0], n, seed)


def measure(
    pred: np.ndarray,
    data: ProbeData,
    items: np.ndarray,
    k: int,
    device,
    users: np.ndarray | None = None,
    memo: dict | None = None,
) -> dict[str, float]:
    """All metrics of mapped vectors ``pred`` (every item) on one item set; ``users``: Rec Jaccard's sample.

    ``memo``: a dict kept for one item set and user sample across mappers (:func:`measure_item_sets`):
    what depends on the true vectors alone (their neighbours, recalls and top-k lists) is computed once."""
    memo = {} if memo is None else memo
    true = data.target[items]
    out = {
        "n_items": float(len(items)),
        "r2": metrics.r2_score(pred[items], true),
        "cosine": metrics.mean_cosine(pred[items], true),
        "knn_jaccard": metrics.knn_jaccard(pred[items], true, k, memo=memo.setdefault("knn", {})),
        "cka": metrics.linear_cka(pred[items], true),
    }
    if data.users is not None and data.seen is not None and data.test is not None:
        out |= metrics.inductive_recall(
            data.users, data.target, pred, items, data.test, data.seen, k, device, memo=memo.setdefault("recall", {})
        )
        if users is not None:
            out["rec_jaccard"] = metrics.rec_jaccard(
                data.users, data.target, pred, items, users, data.seen, k, device, memo=memo.setdefault("lists", {})
            )
    return out


def measure_item_sets(
    pred: np.ndarray,
    data: ProbeData,
    fit_items: np.ndarray,
    held_items: np.ndarray,
    k: int,
    device,
    users,
    memo: dict | None = None,
) -> dict[str, dict[str, float]]:
    """:func:`measure` of one mapper's predictions per item set: ``fit``, ``held_out`` and, with a Rec
    Jaccard sample, ``all`` (Rec Jaccard with every item mapped).

    ``memo``: one dict per (shift, seed) — the same item sets and user sample — shared by its mappers, so
    the true vectors' neighbours, recalls and top-k lists are computed once, not once per mapper (the
    values are the same)."""
    memo = {} if memo is None else memo
    lists = memo.setdefault("lists", {})  # L_true depends on the user sample only: shared by every item set
    out = {
        "fit": measure(pred, data, fit_items, k, device, users, memo.setdefault("fit", {"lists": lists})),
        "held_out": measure(pred, data, held_items, k, device, users, memo.setdefault("held_out", {"lists": lists})),
    }
    if users is not None and data.users is not None and data.seen is not None:
        every = np.arange(len(data.item_ids))
        out["all"] = {
            "rec_jaccard": metrics.rec_jaccard(
                data.users, data.target, pred, every, users, data.seen, k, device, memo=lists
            )
        }
    return out


def _rows(run_id, source, target, mapper, shift, item_set, seed, values: dict[str, float]) -> list[dict]:
    return [
        {
            "run_id": run_id,
            "source": source,
            "target": target,
            "mapper": mapper,
            "shift": shift,
            "item_set": item_set,
            "metric": metric,
            "value": float(value),
            "seed": seed,
        }
        for metric, value in values.items()
    ]


def run_probe(
    ws: Workspace,
    source: str,
    target: str,
    mappers=None,
    shifts=None,
    seeds: int = 3,
    device: str = "auto",
    cold_n: int = 5,
    k: int = 20,
    cca_threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
    max_epochs: int | None = None,
    run_id: str | None = None,
    protocol: str = "ours",
    n_rec_users: int = REC_JACCARD_USERS,
) -> pa.Table:
    """Probe ``source -> target`` with each mapper, shift and seed (``seed, seed+1, …``), write the rows
    to ``probes`` (part ``run_id``) and record the run in ``runs``. Returns the rows written.

    ``protocol`` (``ours`` or ``paper``) sets the default mappers and shifts and how MLPs train;
    ``max_epochs`` overrides its epoch count. Recall and Rec Jaccard mask what the evaluation
    protocol masks (train + valid, ``DEFAULT_EXCLUDE``)."""
    from ..scoring.steps import DEFAULT_EXCLUDE

    rules = get_protocol(protocol)
    mapper_names = parse_mappers(rules.mappers if mappers is None else mappers)
    shift_names = parse_shifts(rules.shifts if shifts is None else shifts)
    checks.integer("--seeds", seeds, minimum=1, maximum=checks.SEED_MAX + 1)  # seeds 0 .. SEED_MAX at most
    checks.integer("--cold-n", cold_n, minimum=0)
    checks.integer("--k", k, minimum=1)
    max_epochs = checks.integer("--max-epochs", max_epochs, minimum=1)
    check_seed("--seed", seed, count=seeds)  # every seed, seed .. seed + seeds - 1, fits the 32-bit columns
    if n_rec_users < 1:
        raise ConfigError("the Rec Jaccard sample needs at least 1 user")
    max_epochs = max_epochs or rules.max_epochs
    torch_device = resolve_device(device)
    data = load_probe_data(ws, source, target)
    n_items = len(data.item_ids)
    seed_values = list(range(seed, seed + seeds))
    split_args: dict[str, Any] = {"pop_group": data.pop_group, "n_train": data.n_train, "cold_n": cold_n}
    for shift in shift_names:  # fail on an empty split before any fitting
        split_items(shift, n_items, seed, **split_args)

    run_id = run_id or f"probe-{uuid.uuid4().hex[:10]}"
    params = {
        "source": source,
        "target": target,
        "mappers": mapper_names,
        "shifts": shift_names,
        "seeds": seed_values,
        "device": str(torch_device),
        "cold_n": cold_n,
        "k": k,
        "cca_threshold": cca_threshold,
        "max_epochs": max_epochs,
        "exclude": DEFAULT_EXCLUDE,
        "protocol": rules.name,
        "batch_size": rules.batch_size,
        "early_stopping": rules.early_stopping,
        "rec_jaccard_users": n_rec_users,
    }
    rows: list[dict] = []
    item_sets: list[dict] = []
    record_in = RunRecord(
        step="probe",
        view=target,
        params=params,
        seed=seed,
        run_id=run_id,
        lock_view=False,
        inputs=[f"embeddings/{source}", f"embeddings/{target}", "interactions"],
    )
    with recorded(ws, record_in) as record:
        rows += _rows(
            run_id,
            source,
            target,
            "cca",
            "all",
            "all",
            seed,
            shared_private(data.source, data.target, cca_threshold, seed),
        )
        with progress() as bar:
            task = bar.add_task(
                f"probe {source}->{target}", total=len(shift_names) * len(seed_values) * len(mapper_names)
            )
            for shift in shift_names:
                for s in seed_values:
                    fit_items, held_items = split_items(shift, n_items, s, **split_args)
                    users = rec_users(data, n_rec_users, s)
                    memo: dict = {}  # the true vectors' measures on these item sets, shared by the mappers
                    for name, items in zip(ITEM_SETS, (fit_items, held_items), strict=True):
                        item_sets += [
                            {"run_id": run_id, "shift": shift, "seed": s, "item_set": name, "item_id": str(i)}
                            for i in data.item_ids[items]
                        ]
                    for mapper_name in mapper_names:
                        mapper = make_mapper(
                            mapper_name,
                            device=device,
                            max_epochs=max_epochs,
                            batch_size=rules.batch_size,
                            early_stopping=rules.early_stopping,
                        )
                        started = time.perf_counter()
                        mapper.fit(data.source[fit_items], data.target[fit_items], seed=s)
                        pred = mapper.predict(data.source)
                        fit_seconds = time.perf_counter() - started
                        measured = measure_item_sets(pred, data, fit_items, held_items, k, torch_device, users, memo)
                        measured["fit"] |= mapper.details() | {"fit_seconds": fit_seconds}
                        for item_set, values in measured.items():
                            rows += _rows(run_id, source, target, mapper_name, shift, item_set, s, values)
                        bar.advance(task)
        table = pa.Table.from_pylist(rows)
        ws.write_table("probes", table, part=run_id)
        atomic.write_parquet(pa.Table.from_pylist(item_sets), ws.cache_dir / "probes" / f"{run_id}_item_sets.parquet")
        record.rows = table.num_rows
        record.metrics = {
            r["mapper"] + "/" + r["shift"] + "/r2_held_out": r["value"]
            for r in rows
            if r["metric"] == "r2" and r["item_set"] == "held_out" and r["seed"] == seed
        }
    return ws.read_table("probes", part=run_id)
