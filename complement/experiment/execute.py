"""``complement run``: bring a workspace up to date with its experiment, step by step.

A finished step is recorded in ``runs`` as ``run:<step id>`` with its content key; a step whose key
is already recorded (and whose output exists) is skipped. Each step writes its tables atomically
before it is recorded, so an interrupted run resumes where it stopped and never keeps half a table."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .. import atomic
from ..errors import ConfigError
from ..progress import message
from ..runs import RunRecord, append_run
from ..workspace import Workspace
from .plan import PAIR_PARAMS, Step, build_plan

RESULTS_DIR = "results"


@dataclass
class StepStatus:
    step: Step
    action: str  # "run" | "skip"
    reason: str


def recorded_steps(ws: Workspace) -> dict[str, tuple[str, list | None]]:
    """The latest recorded key and output fingerprint of every ``run:`` step."""
    if not ws.has_table("runs"):
        return {}
    rows = ws.query(
        "SELECT step, config_hash, metrics FROM runs WHERE step LIKE 'run:%' ORDER BY finished_at"
    ).to_pylist()
    return {r["step"][4:]: (r["config_hash"], json.loads(r["metrics"] or "{}").get("outputs")) for r in rows}


def _outputs(ws: Workspace, step: Step) -> list[str]:
    """What a step writes (what must exist, unchanged, for it to count as done): catalog keys, or
    paths relative to the workspace for the diagnostics results, which live outside the tables."""
    if step.kind == "ingest":
        return ["items", "users", "interactions"]
    if step.kind in ("embed", "import"):
        return [f"embeddings/{step.view}"]
    if step.kind in ("train", "fuse"):
        return [f"topk/{step.view}"]
    if step.kind == "neighbors":
        return [f"neighbors/{step.view}"]
    if step.kind == "diagnostics":
        found = sorted((ws.root / RESULTS_DIR).glob("*.parquet"))
        return [p.relative_to(ws.root).as_posix() for p in found] or [f"{RESULTS_DIR}/metrics.parquet"]
    if step.kind == "probe":
        return [f"probes/{probe_run_id(step)}"]
    return []


def probe_run_id(step: Step) -> str:
    return f"run-{step.id.replace(':', '-')}"


def fingerprint(ws: Workspace, step: Step) -> list | None:
    """The content fingerprints of the step's outputs (size and mtime for result files); None when
    one is missing."""
    entries = ws.catalog().entries
    out = []
    for output in _outputs(ws, step):
        if output.startswith(RESULTS_DIR + "/"):
            path = ws.root / output
            if not path.exists():
                return None
            stat = path.stat()
            out.append([output, stat.st_size, stat.st_mtime_ns])
        elif output in entries:
            out.append([output, entries[output].fingerprint])
        else:
            return None
    return out


def plan_status(ws: Workspace, steps: list[Step], force: list[str] | None = None) -> list[StepStatus]:
    done = recorded_steps(ws)
    forced = set(force or [])
    unknown = [f for f in forced if not any(s.id == f or s.id.startswith(f + ":") or s.kind == f for s in steps)]
    if unknown:
        raise ConfigError(f"--force {unknown[0]}: no such step (steps: {', '.join(s.id for s in steps)})")
    dirty: set[str] = set()
    out = []
    for step in steps:
        hit = step.id in forced or any(step.id.startswith(f + ":") for f in forced) or step.kind in forced
        if hit:
            action, reason = "run", "forced"
        elif step.id not in done:
            action, reason = "run", "new"
        elif any(d in dirty for d in step.deps):
            action, reason = "run", "an input changed"
        elif done[step.id][0] != step.key:
            action, reason = "run", "settings changed"
        elif (current := fingerprint(ws, step)) is None:
            action, reason = "run", "output missing"
        elif done[step.id][1] is not None and current != done[step.id][1]:
            action, reason = "run", "output changed outside `complement run`"
        else:
            action, reason = "skip", "up to date"
        if action == "run":
            dirty.add(step.id)
        out.append(StepStatus(step, action, reason))
    return out


def run_experiment(
    ws: Workspace, config: dict[str, Any], *, force: list[str] | None = None, dry_run: bool = False
) -> list[StepStatus]:
    """Execute every step that is not up to date, in dependency order."""
    statuses = plan_status(ws, build_plan(config), force)
    if dry_run:
        return statuses
    if not ws.config_path.exists():
        # the workspace keeps the experiment it was built from (paths resolved): `complement run` alone works later
        ws.root.mkdir(parents=True, exist_ok=True)
        ws.write_config(config, header="# complement experiment (validated copy written by `complement run`)\n\n")
    todo = [s for s in statuses if s.action == "run"]
    if not todo:
        message("everything is up to date; nothing to do")
        return statuses
    for number, status in enumerate(todo, 1):
        step = status.step
        message(f"[{number}/{len(todo)}] {step.id} ({status.reason})")
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        with ws.transaction():  # the step's tables and its run: row commit together
            rows = STEP_RUNNERS[step.kind](ws, step, config)
            append_run(
                ws,
                RunRecord(
                    step=f"run:{step.id}",
                    view=step.view,
                    params=step.settings,
                    seed=step.seed,
                    rows=rows,
                    config_hash=step.key,
                    metrics={"outputs": fingerprint(ws, step)},
                ),
                started,
                time.perf_counter() - t0,
            )
    return statuses


# ---- step runners: each calls one library function --------------------------------------------
def _ingest(ws: Workspace, step: Step, config: dict) -> int:
    from ..data.loaders import ingest

    summary = ingest(ws, {"dataset": step.settings["dataset"], "split": step.settings["split"]})
    for line in summary.lines():
        message(f"  {line}")
    return summary.interactions


def _embed(ws: Workspace, step: Step, config: dict) -> int:
    from ..embed.encoder import embed

    s = step.settings
    model = None if s["embed"] in ("default", "", None) else s["embed"]
    result = embed(
        ws,
        view=step.view,
        model=model,
        batch_size=s.get("batch_size", 64),
        device=s["device"],
        template=s.get("template"),
    )
    return result.n_items


def _import(ws: Workspace, step: Step, config: dict) -> int:
    from ..embed.importer import import_vectors

    s = step.settings
    result = import_vectors(ws, step.view, s["from"], s.get("ids"), entity="item")
    if s.get("user_from"):
        import_vectors(ws, step.view, s["user_from"], s.get("user_ids"), entity="user")
        from ..scoring import write_topk

        write_topk(ws, step.view, device=s.get("device", "auto"))
    return result.n_rows if hasattr(result, "n_rows") else 0


def _train(ws: Workspace, step: Step, config: dict) -> int:
    from ..embed.train import train_view

    options = {k: v for k, v in step.settings.items() if k not in ("name", "model")}
    train_view(ws, step.settings["model"], view=step.view, **options)
    return ws.query("SELECT count(*) FROM topk WHERE view = $v", {"v": step.view}).column(0)[0].as_py()


def _fuse(ws: Workspace, step: Step, config: dict) -> int:
    from ..fusion.run import fuse

    s = {k: v for k, v in step.settings.items() if k not in ("name", "views", "method")}
    fuse(ws, step.settings["views"], step.settings["method"], step.view, **s)
    return 0


def _neighbors(ws: Workspace, step: Step, config: dict) -> int:
    from ..scoring import write_neighbors

    return write_neighbors(ws, step.view, k=step.settings["k"], device=step.settings["device"])


def _diagnostics(ws: Workspace, step: Step, config: dict) -> int:
    from ..diagnostics.headers import find
    from ..diagnostics.runner import diagnose

    s = step.settings
    out_dir = ws.root / RESULTS_DIR
    total = 0
    for name in s["names"]:
        diagnostic = find(name)
        declared = {p.name for p in diagnostic.params}
        tables = []
        if set(PAIR_PARAMS) <= declared:
            for pair in s["expanded_pairs"]:
                if name == "item_agreement" and not all(
                    bool(ws.table_files("neighbors", v)) for v in (pair["view_a"], pair["view_b"])
                ):
                    continue
                params = {"k": list(s["k"]), "view_a": pair["view_a"], "view_b": pair["view_b"]}
                if name == "fusion_gap":
                    if not pair["fused"]:
                        continue
                    params["views"] = pair["fused"]
                t = diagnose(ws, name, **params)
                tables.append(_tag(t, pair["seed"], pair["view_a"], pair["view_b"]))
        else:
            params = {"k": list(s["k"])} if "k" in declared else {}
            tables.append(_tag(diagnose(ws, name, **params), None, None, None))
        if not tables:
            continue
        table = pa.concat_tables(tables, promote_options="default")
        atomic.write_parquet(table, out_dir / f"{name}.parquet")
        total += table.num_rows
    write_results_lineage(ws)
    return total


RESULTS_LINEAGE = "_lineage.json"


def write_results_lineage(ws: Workspace) -> None:
    """The fingerprints of every table the stored results were computed from: a reader uses them only
    while those tables are unchanged (``results_are_current``)."""
    fingerprints = {key: entry.fingerprint for key, entry in ws.catalog().entries.items() if key != "runs"}
    atomic.write_text(json.dumps(fingerprints, sort_keys=True, indent=1), ws.root / RESULTS_DIR / RESULTS_LINEAGE)


def results_are_current(ws: Workspace) -> bool:
    path = ws.root / RESULTS_DIR / RESULTS_LINEAGE
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    entries = ws.catalog().entries
    return all(key in entries and entries[key].fingerprint == fp for key, fp in recorded.items())


def _tag(table: pa.Table, seed, view_a, view_b) -> pa.Table:
    if "k" in table.column_names and table.column("k").null_count == table.num_rows:
        table = table.drop(["k"])
    for name, value, kind in (
        ("seed", seed, pa.int64()),
        ("pair_a", view_a, pa.string()),
        ("pair_b", view_b, pa.string()),
    ):
        if value is not None and name not in table.column_names:
            table = table.append_column(name, pa.array([value] * table.num_rows, kind))
    return table


def _probe(ws: Workspace, step: Step, config: dict) -> int:
    from ..probes.run import run_probe

    s = step.settings
    table = run_probe(
        ws,
        s["source"],
        s["target"],
        mappers=s.get("mappers"),
        shifts=s.get("shifts"),
        seeds=int(s.get("seeds", 3)),
        device=s["device"],
        cold_n=int(s.get("cold_n", 5)),
        run_id=probe_run_id(step),
        protocol=s.get("protocol", "ours"),
        max_epochs=s.get("max_epochs"),
    )
    return table.num_rows


STEP_RUNNERS = {
    "ingest": _ingest,
    "embed": _embed,
    "import": _import,
    "train": _train,
    "fuse": _fuse,
    "neighbors": _neighbors,
    "diagnostics": _diagnostics,
    "probe": _probe,
}
