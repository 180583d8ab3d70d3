"""``complement run``: bring a workspace up to date with its experiment, step by step.

A finished step is recorded in ``runs`` as ``run:<step id>`` with its content key; a step whose key
is already recorded (and whose output exists) is skipped. Each step writes its tables atomically
before it is recorded, so an interrupted run resumes where it stopped and never keeps half a table."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import atomic, viewkind
from ..catalog import file_digest
from ..errors import ComplementError, ConfigError
from ..lineage import staleness
from ..outputs import RESULTS_DIR
from ..progress import message
from ..runs import RunRecord, append_run
from ..workspace import Workspace
from . import schema
from .digests import CACHE_NAME, Digests
from .digests import status as file_status
from .plan import (
    INPUT_PATH_KEYS,
    PAIR_PARAMS,
    TEXT_MODELS,
    Anchor,
    Step,
    build_plan,
    files_digests,
    ingest_views,
    input_files,
    text_view_names,
)


@dataclass
class StepStatus:
    step: Step
    action: str  # "run" | "skip"
    reason: str


def recorded_steps(ws: Workspace) -> dict[str, tuple[str, list | None, dict, dict]]:
    """The latest recorded key, output fingerprint, settings and metrics of every ``run:`` step (the metrics hold
    the contents of the files it read, ``file_digests``, for ingest and an imported view)."""
    if not ws.has_table("runs"):
        return {}
    rows = ws.query(
        "SELECT step, config_hash, metrics, params FROM runs WHERE step LIKE 'run:%' ORDER BY finished_at"
    ).to_pylist()
    recorded = {}
    for r in rows:
        metrics = json.loads(r["metrics"] or "{}")
        recorded[r["step"][4:]] = (r["config_hash"], metrics.get("outputs"), json.loads(r["params"] or "{}"), metrics)
    return recorded


def _changed(step: Step, recorded: tuple[str, list | None, dict, dict]) -> str:
    """Why a step whose key differs from the recorded one runs again, as plainly as the records tell."""
    if recorded[0] == step.unrevised_key:
        return "code changed"
    before, now = recorded[2], json.loads(json.dumps(step.settings, default=str))  # as the runs table holds it
    if before == now:  # its own settings are the same: its key moved with an input's, made again since
        return "an input changed"
    if step.kind in INPUT_PATH_KEYS:
        others = {k: v for k, v in before.items() if k != "files"} == {k: v for k, v in now.items() if k != "files"}
        if others and "files" not in before:  # recorded before an imported view's files were keyed
            return "code changed (the files it reads are now keyed by size and modification time)"
        if others:  # a step recorded before the contents were knows sizes and modification times only
            what = "the dataset files changed" if step.kind == "ingest" else "the files it imports changed"
            return what + ("" if "file_digests" in recorded[3] else " (size or modification time)")
        names = [f[0] for f in before.get("files") or [] if isinstance(f, list) and f]
        same_names = names == [f[0] for f in now.get("files") or []]
        if same_names and _without_files(step.kind, before) == _without_files(step.kind, now):  # moved and edited
            what = "the dataset files" if step.kind == "ingest" else "the files it imports"
            return f"{what} lie elsewhere and changed"
    return "settings changed"


def _without_files(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings less the files' fingerprint and the keys that say where the files lie."""
    paths = INPUT_PATH_KEYS.get(kind, ())
    out = {k: v for k, v in settings.items() if k != "files" and (kind == "ingest" or k not in paths)}
    if kind == "ingest" and isinstance(out.get("dataset"), dict):
        out["dataset"] = {k: v for k, v in out["dataset"].items() if k not in paths}
    return out


def _where(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The keys of the settings that say where the files lie."""
    table = settings.get("dataset", {}) if kind == "ingest" else settings
    return {k: table.get(k) for k in INPUT_PATH_KEYS.get(kind, ())} if isinstance(table, dict) else {}


def anchor(ws: Workspace, cache: Digests | None = None) -> Anchor:
    """The recorded settings of a step that reads files from outside the workspace, when only where those files
    lie or their modification times moved since, and not their contents.

    Ingest and an imported view key the files they read by name, size and modification time (``files``) and
    record each file's SHA-256 beside their run. When the files now have the recorded names and sizes but other
    modification times (a copy: another machine, a fresh download, ``cp`` without ``-p``), or lie in another
    folder (the workspace and its data moved together), and no other setting changed, the files that moved are
    hashed; if each holds the content recorded, the step is keyed with its recorded settings, so it and every step
    after it stay up to date. Otherwise (or for a step recorded before contents were) it is keyed as it is now.
    ``cache`` remembers the hashes (a file hashed once is not read again while its status stays the same)."""
    records = {step_id: (r[2], r[3].get("file_digests")) for step_id, r in recorded_steps(ws).items()}

    def recorded_settings(
        step_id: str, kind: str, settings: dict[str, Any], inputs: list[tuple[str, Path]]
    ) -> dict[str, Any] | None:
        if step_id not in records:
            return None
        before, digests = records[step_id]
        now = json.loads(json.dumps(settings, default=str))  # as the runs table holds it
        if not isinstance(before, dict) or not isinstance(digests, list) or before == now:
            return None
        old, new = before.get("files"), now["files"]
        if not isinstance(old, list) or len(old) != len(new):
            return None
        if _without_files(kind, before) != _without_files(kind, now):  # another setting changed
            return None
        if any(not isinstance(o, list) or len(o) != 3 or o[:2] != n[:2] for o, n in zip(old, new, strict=True)):
            return None  # another file, or another size
        moved_folder = _where(kind, before) != _where(kind, now)
        moved = {n[0] for o, n in zip(old, new, strict=True) if moved_folder or o[2] != n[2]}
        known = {d[0]: d for d in digests if isinstance(d, list) and len(d) == 3}
        if not moved <= known.keys():
            return None
        hashed = files_digests(inputs, moved, cache)
        if len(hashed) == len(moved) and all(known[d[0]] == d for d in hashed):
            return before
        return None

    return recorded_settings


def anchor_note(step: Step) -> str:
    """The note that says why an anchored step stays up to date."""
    now = _where(step.kind, json.loads(json.dumps(step.anchored or step.settings, default=str)))
    before = _where(step.kind, step.settings)
    moved = [f"{k} = {now[k]} (was {before[k]})" for k in before if before[k] != now[k]]
    if step.kind == "ingest":
        what, made, after = "the dataset files", "ingested", "ingest, and the steps after it"
    else:
        what, made, after = f"the files view '{step.view}' imports", "imported", "the view, and the steps after it"
    if moved:
        return (
            f"note: {what} lie elsewhere ({'; '.join(moved)}), with the contents {made} (SHA-256): {after}, stay "
            "as they are"
        )
    return (
        f"note: {what} have other modification times than when they were {made}, but the same contents (SHA-256): "
        f"{after}, stay as they are"
    )


def _outputs(ws: Workspace, step: Step) -> list[str]:
    """What a step writes (what must exist, unchanged, for it to count as done): catalog keys, or
    paths relative to the workspace for the diagnostics results, which live outside the tables."""
    if step.kind == "ingest":
        return ["items", "users", "interactions"]
    if step.kind == "import" and step.settings.get("user_from"):  # with user vectors it writes top-K lists too
        return [f"embeddings/{step.view}", f"topk/{step.view}"]
    if step.kind in ("embed", "import"):
        return [f"embeddings/{step.view}"]
    if step.kind in ("train", "fuse"):
        return [f"topk/{step.view}"]
    if step.kind == "neighbors":
        return [f"neighbors/{step.view}"]
    if step.kind == "diagnostics":
        found = [p.relative_to(ws.root).as_posix() for p in sorted((ws.root / RESULTS_DIR).glob("*.parquet"))]
        if found or not (ws.has_table("topk") and ws.parts("topk")):  # no lists: the step writes nothing
            return found
        return [f"{RESULTS_DIR}/metrics.parquet"]
    if step.kind == "probe":
        return [f"probes/{probe_run_id(step)}"]
    return []


def probe_run_id(step: Step) -> str:
    return f"run-{step.id.replace(':', '-')}"


def fingerprint(ws: Workspace, step: Step) -> list | None:
    """The content fingerprints of the step's outputs (size and SHA-256 for result files, so a copied workspace's
    results stay theirs); None when one is missing."""
    entries = ws.catalog().entries
    out = []
    for output in _outputs(ws, step):
        if output.startswith(RESULTS_DIR + "/"):
            path = ws.root / output
            if not path.exists():
                return None
            out.append([output, path.stat().st_size, file_digest(path)])
        elif output in entries:
            out.append([output, entries[output].fingerprint])
        else:
            return None
    return out


def model_fingerprint_now(step: Step) -> str | None:
    """The fingerprint of the model files an embed step reads (``complement.embed.encoder.model_fingerprint``:
    configs and weights by content); None when the model cannot be found now."""
    from ..embed.encoder import model_fingerprint, resolve_model

    name = step.settings.get("embed")
    try:
        return model_fingerprint(resolve_model(None if name in ("default", "", None) else str(name)).path)
    except ComplementError:
        return None


def _model_changed(step: Step, recorded: Any) -> bool:
    """Whether the model an up-to-date embed step read has other files now: retrained and saved over the same
    folder, say (a step recorded before models were fingerprinted, or a model not found now, counts as not)."""
    if not isinstance(recorded, str):
        return False
    now = model_fingerprint_now(step)
    return now is not None and now != recorded


def _same_outputs(ws: Workspace, recorded: list, current: list) -> bool:
    """Whether the recorded output fingerprints are the current ones. A result file recorded by an earlier
    version, by size and modification time (nanoseconds, an integer) rather than by content, is compared so."""
    if len(recorded) != len(current):
        return False
    for before, now in zip(recorded, current, strict=True):
        if before == now:
            continue
        legacy = isinstance(before, list) and len(before) == 3 and isinstance(before[2], int)
        if not (legacy and before[0] == now[0] and str(before[0]).startswith(RESULTS_DIR + "/")):
            return False
        stat = (ws.root / before[0]).stat()
        if [before[1], before[2]] != [stat.st_size, stat.st_mtime_ns]:
            return False
    return True


def _stale_input(ws: Workspace, step: Step) -> str | None:
    """Why a step whose outputs are as recorded must run again all the same: the catalogue's lineage says an
    output was made from a table that has been made again, or removed, since (``complement.lineage``). Only a
    table the experiment does not make can change so without its step running (the key of a step holds the keys
    of the steps it reads); None when no output is stale, or when what is stale is a table the step reads
    rather than its own (running it again would not mend that: :func:`check_hand_made_text_views` refuses it)."""
    catalog = ws.catalog()
    outputs = _outputs(ws, step)
    own = set(outputs) | {f"{table}/{step.view}" for table in viewkind.VIEW_TABLES}
    for output in outputs:
        if output in catalog.entries and (found := staleness(catalog, output)) is not None and found.entry in own:
            name = found.gone_input()
            if found.gone:
                return f"{name}, which it was made from, is gone"
            return f"{name}, which it was made from, was made again outside `complement run`"
    return None


def _files_written(step: Step, metrics: dict[str, Any], digests: Digests | None) -> str | None:
    """Why an ingest or import step whose key is the recorded one runs all the same: a file it reads was written
    since with other contents, keeping its size and its modification time to the second (``cp -p`` or
    ``rsync -t`` of other bytes, an edit within the second of the run). The status recorded beside the run
    (:func:`complement.experiment.digests.status`) tells a file not written since; a file written since is hashed
    and its contents decide. None for a step recorded before statuses were."""
    stats, known = metrics.get("file_stats"), metrics.get("file_digests")
    if not isinstance(stats, list) or not isinstance(known, list):
        return None
    recorded = {s[0]: s[1:] for s in stats if isinstance(s, list) and len(s) == 5}
    contents = {d[0]: d for d in known if isinstance(d, list) and len(d) == 3}
    written = {name for name, path in step.inputs if name in recorded and file_status(path) != recorded[name]}
    for name, size, digest in files_digests(step.inputs, written, digests):
        if name in contents and contents[name] != [name, size, digest]:
            return "the dataset files changed" if step.kind == "ingest" else "the files it imports changed"
    return None


def plan_status(
    ws: Workspace, steps: list[Step], force: list[str] | None = None, digests: Digests | None = None
) -> list[StepStatus]:
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
            action, reason = "run", _changed(step, done[step.id])
        elif step.kind in INPUT_PATH_KEYS and (written := _files_written(step, done[step.id][3], digests)):
            action, reason = "run", written
        elif step.kind == "embed" and _model_changed(step, done[step.id][3].get("model_fingerprint")):
            action, reason = "run", "the model's files changed"
        elif (current := fingerprint(ws, step)) is None:
            action, reason = "run", "output missing"
        elif (outputs := done[step.id][1]) is not None and not _same_outputs(ws, outputs, current):
            action, reason = "run", "output changed outside `complement run`"
        elif (stale := _stale_input(ws, step)) is not None:
            # made from a view the experiment does not make (a text model's text_view made by hand) that has been
            # made again since: the step's key cannot see it, the catalogue's lineage does
            action, reason = "run", stale
        elif step.kind == "diagnostics" and not results_are_current(ws):
            # the results record the fingerprints of every table they were computed from: one changed since
            # (a step outside `complement run`, or an earlier version's run that probed after diagnosing)
            action, reason = "run", "an input changed after the results were computed"
        else:
            action, reason = "skip", "up to date"
        if action == "run":
            dirty.add(step.id)
        out.append(StepStatus(step, action, reason))
    return out


def preflight(ws: Workspace, config: dict[str, Any], statuses: list[StepStatus], source: str) -> None:
    """What a validated experiment file cannot tell alone, checked against this machine and workspace before
    the run writes anything (``--dry-run`` too): each device it asks for is there, each text model's
    ``text_view`` will exist when the model trains, and, when the workspace's items stay as they are (its
    ingest is up to date), no list is longer than its catalogue. The paths come first, as the real run meets
    them: the folders the run writes into are folders (or can be made), and the files its ingest reads (when it
    runs) are there."""
    from ..device import unavailable

    _check_paths(ws, config, statuses, source)
    _check_view_kinds(ws, statuses, source)

    tables = [
        *((f"view '{v['name']}'", v) for v in config["view"]),
        *((f"fusion '{f['name']}'", f) for f in config["fusion"]),
        *((f"probe[{i}]", p) for i, p in enumerate(config["probe"])),
    ]
    asked = [("[run].device", config["run"]["device"])]
    asked += [(f"{where}.device", table["device"]) for where, table in tables if "device" in table]
    for where, device in asked:
        if (why := unavailable(str(device))) is not None:
            raise ConfigError(f"{source}: {where} = {str(device)!r}, but {why}; use 'cpu' or 'auto'")

    _check_text_views(ws, config, source)
    check_hand_made_text_views(ws, config, source)
    if statuses and statuses[0].step.kind == "ingest" and statuses[0].action == "skip" and ws.has_table("items"):
        _check_catalogue(ws, config, source)


def _check_catalogue(ws: Workspace, config: dict[str, Any], source: str) -> None:
    """No list, neighbour list or probe k of the experiment is longer than the workspace's items allow (named as
    the file's keys: a step would name its command-line flag)."""
    n_items = ws.query("SELECT count(*) FROM items").column(0)[0].as_py()
    schema.check_catalogue(config, n_items, f"the workspace's items table: {n_items} items", source)


def _check_paths(ws: Workspace, config: dict[str, Any], statuses: list[StepStatus], source: str) -> None:
    """What the real run would refuse of a path before its first write, refused before any (``--dry-run`` too):
    a workspace folder that is a file or lies under one, a file where the run writes a folder (tables/,
    results/), and, when ingest runs, a dataset file that is not there."""
    from ..atomic import file_in_the_way
    from ..data.loaders import check_dataset_files

    root = ws.root
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} is a file, not a folder: give a new or existing folder for the workspace")
    if (blocker := file_in_the_way(root)) is not None:
        raise ConfigError(f"{root}: {blocker} is a file, not a folder")
    for folder in (ws.tables_dir, root / RESULTS_DIR):
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"{folder} is a file, not a folder: the run writes the workspace's {folder.name} there")
    ingest = statuses[0] if statuses and statuses[0].step.kind == "ingest" else None
    dataset = config["dataset"]
    if ingest is not None and ingest.action == "run" and str(dataset.get("kind")) != "synthetic":
        try:
            check_dataset_files(dataset, root)
        except ComplementError as exc:
            raise ConfigError(f"{source}: {exc}") from None


#: the kind of view each step kind writes (complement.viewkind)
WRITES = {
    "embed": viewkind.TEXT,
    "import": viewkind.IMPORTED_VECTORS,
    "train": viewkind.TRAINED,
    "fuse": viewkind.FUSED,
}


def _check_view_kinds(ws: Workspace, statuses: list[StepStatus], source: str) -> None:
    """Every step that will write a view finds its name free or holding a view of a kind it may replace
    (:func:`complement.viewkind.check_writable`, which the step itself applies too, but only once the steps
    before it have written): else the run is refused before anything is written, naming the file's
    [[view]] or [[fusion]] and the `complement drop` that frees the name."""
    if not ws.tables_dir.is_dir():
        return
    for status in statuses:
        step = status.step
        kind = WRITES.get(step.kind)
        if kind is None or status.action != "run" or step.view is None:
            continue
        try:
            viewkind.check_writable(ws, step.view, kind, f"complement run {source}")
        except ConfigError:
            found = viewkind.view_kind(ws, step.view)
            held = f"{viewkind.DESCRIPTION[found[0]]} (made by `{found[1]}`)" if found else "another kind of view"
            table = "[[fusion]]" if step.kind == "fuse" else "[[view]]"
            name = step.settings.get("name", step.view)
            writes = f"'{step.view}' (for seed {step.seed})" if step.view != name else f"'{step.view}'"
            raise ConfigError(
                f"{source}: {table} '{name}' writes {viewkind.DESCRIPTION[kind]} to view {writes}, but the "
                f"workspace's view '{step.view}' holds {held}: rename the {table} in {source}, or remove the "
                f"workspace's view first with `complement drop {step.view} -w {ws.root}`"
            ) from None


def undeclared_views(ws: Workspace, steps: list[Step]) -> list[str]:
    """The views of the workspace (vectors, top-K lists or neighbour lists) that no step of the experiment
    writes: those of an earlier experiment or of a view renamed since, or made by hand. A synthetic
    workspace's planted truth views are not counted."""
    from ..tables import RESERVED_PREFIX

    if not ws.tables_dir.is_dir():
        return []
    held = {view for table in viewkind.VIEW_TABLES if ws.has_table(table) for view in ws.parts(table)}
    declared = {step.view for step in steps if step.view is not None}
    return sorted(v for v in held - declared if not v.startswith(RESERVED_PREFIX))


def _check_text_views(ws: Workspace, config: dict[str, Any], source: str) -> None:
    """A text model's ``text_view`` is a [[view]] the run embeds or imports (before any model trains), a
    trained [[view]] declared before it in a run without seeds (the plan trains views in file order, and
    seeds rename them), a view with item vectors in the workspace, or a synthetic dataset's truth view (its
    ingest writes them)."""
    declared = {v["name"] for v in config["view"] if "model" not in v}
    have = set(ws.views("item")) if ws.root.is_dir() else set()
    trained_before: set[str] = set()
    for view in config["view"]:
        if view.get("model") in TEXT_MODELS:
            names = text_view_names(view)
            ready = declared | have | ingest_views(config) | (set() if config["run"]["seeds"] else trained_before)
            if not ready.intersection(names):
                _refuse_text_view(config, view, names[0], declared, have, source)
        if "model" in view:
            trained_before.add(view["name"])


def hand_made_text_views(ws: Workspace, config: dict[str, Any]) -> dict[str, str]:
    """The text models' ``text_view``s that no step of the experiment makes (views of the workspace made by hand,
    ``complement embed --view NAME`` say), as {[[view]] name: workspace view}; a synthetic dataset's truth views,
    which its ingest makes, are not counted."""
    made = {v["name"] for v in config["view"]} | ingest_views(config)
    held = set(ws.parts("embeddings")) if ws.tables_dir.is_dir() and ws.has_table("embeddings") else set()
    out = {}
    for view in config["view"]:
        if view.get("model") not in TEXT_MODELS:
            continue
        names = text_view_names(view)
        if made.intersection(names):
            continue
        found = next((n for n in names if n in held), None)
        if found is not None:
            out[view["name"]] = found
    return out


def check_hand_made_text_views(
    ws: Workspace, config: dict[str, Any], source: str | None = None, only: str | None = None
) -> None:
    """A text model reading a view the experiment does not make is refused while that view is stale (made from
    an older items table than the workspace holds, after a re-ingest say): the run cannot refresh it, and a model
    trained on it would be stale at once. Checked before the run and again before each such model trains (the
    run's own ingest can make it stale): ``only`` checks that [[view]] alone, ``source`` prefixes the message."""
    from ..lineage import staleness_with_own

    hand_made = hand_made_text_views(ws, config)
    if only is not None:
        hand_made = {k: v for k, v in hand_made.items() if k == only}
    if not hand_made:
        return
    catalog = ws.catalog()
    for name, text in hand_made.items():
        found = staleness_with_own(catalog, f"embeddings/{text}")
        if found is None:
            continue
        changed = found.gone_input() if found.gone else f"an older '{found.changed.partition('#')[0]}' table"
        raise ConfigError(
            f"{source + ': ' if source else ''}view '{name}' reads the text vectors of view '{text}' (text_view), a "
            f"view the experiment does not make, and they are stale: made from {changed} than the workspace holds "
            f"now; refresh them with `{found.command(str(ws.root))}`, then run again"
        )


def _refuse_text_view(config: dict[str, Any], view: dict, text: str, declared: set, have: set, source: str) -> None:
    trained = [v["name"] for v in config["view"] if "model" in v]
    if text == view["name"]:
        what = "a text model cannot read its own view"
    elif text in {f["name"] for f in config["fusion"]}:
        what = f"'{text}' is a [[fusion]], made after every view is trained"
    elif text in trained and config["run"]["seeds"]:
        what = f"'{text}' is a trained [[view]], written as {text}-sSEED for each of [run].seeds"
    elif text in trained:
        what = f"'{text}' is a trained [[view]] declared after view '{view['name']}', so trained after it"
    else:
        what = f"the experiment declares no [[view]] '{text}' and the workspace has none"
    raise ConfigError(
        f"{source}: view '{view['name']}'.text_view = '{text}': {what}; name a [[view]] with embed or from "
        f"(declared: {', '.join(sorted(declared)) or 'none'}) or a view with item vectors in the workspace "
        f"({', '.join(sorted(have)) or 'none'})"
    )


def run_experiment(
    ws: Workspace,
    config: dict[str, Any],
    *,
    force: list[str] | None = None,
    dry_run: bool = False,
    source: str = "complement.toml",
) -> list[StepStatus]:
    """Execute every step that is not up to date, in dependency order. ``source`` (the experiment file's
    name) prefixes the errors of the checks made before anything runs (:func:`preflight`). Once they pass, and
    before the first step runs, the workspace's ``complement.toml`` becomes ``config`` (:func:`keep_experiment`;
    not on a dry run, which writes nothing). Views of the workspace that no step writes are named in a note."""
    digests = Digests(ws.cache_dir / CACHE_NAME)  # hashes of the files read from outside, by their status
    recorded_settings = anchor(ws, digests)
    keep: set[str] | None = None  # the steps that may be anchored: all at first

    def anchoring(
        step_id: str, kind: str, settings: dict[str, Any], inputs: list[tuple[str, Path]]
    ) -> dict[str, Any] | None:
        return recorded_settings(step_id, kind, settings, inputs) if keep is None or step_id in keep else None

    while True:
        try:
            steps = build_plan(config, anchoring)
        except ConfigError as exc:  # two steps writing one view: named with the file, as the schema's errors are
            raise ConfigError(f"{source}: {exc}") from None
        statuses = plan_status(ws, steps, force, digests)
        # an anchored step that runs anyway (forced, its output gone, an input made again) runs, and is recorded,
        # with its settings as they are now; the plan is made again without anchoring it
        running = {s.step.id for s in statuses if s.step.anchored is not None and s.action == "run"}
        if not running:
            break
        keep = {s.step.id for s in statuses if s.step.anchored is not None} - running
    preflight(ws, config, statuses, source)
    for status in statuses:
        if status.step.anchored is not None:
            message(anchor_note(status.step))
    if others := undeclared_views(ws, [s.step for s in statuses]):
        message(
            f"note: the workspace also holds views {source} does not declare: {', '.join(others)}; they stay, and "
            f"the diagnostics and the report include those with top-K lists: remove one with "
            f"`complement drop NAME -w {ws.root}`"
        )
    if dry_run:
        return statuses
    keep_experiment(ws, config)
    digests.save()
    todo = [s for s in statuses if s.action == "run"]
    if not todo:
        message("everything is up to date; nothing to do")
        return statuses
    for number, status in enumerate(todo, 1):
        step = status.step
        message(f"[{number}/{len(todo)}] {step.id} ({status.reason})")
        started = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        read = _inputs_read(step, digests)  # before the step reads them: a file written meanwhile is not taken as read
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
                    metrics={"outputs": fingerprint(ws, step), **read},
                ),
                started,
                time.perf_counter() - t0,
            )
        if step.kind == "ingest":  # the catalogue ingest kept (filters shrink it), before any step reads it
            _check_catalogue(ws, config, source)
    digests.save()
    return statuses


def _inputs_read(step: Step, digests: Digests | None = None) -> dict[str, Any]:
    """What a ``run:`` row records beside the step's settings and outputs, taken before the step runs: the
    status and the contents of the files it reads from outside the workspace, for ingest and an imported view
    (:func:`anchor`, :func:`_files_written`; each status taken before its hash, so a write meanwhile shows), and
    an embed step's model fingerprint."""
    read: dict[str, Any] = {}
    if step.kind in INPUT_PATH_KEYS:
        files = input_files(step.kind, step.settings)
        read["file_stats"] = [[name, *file_status(path)] for name, path in files]
        read["file_digests"] = files_digests(files, cache=digests)
    if step.kind == "embed" and (model := model_fingerprint_now(step)) is not None:
        read["model_fingerprint"] = model
    return read


RUN_COPY_HEADER = "# complement experiment (validated copy written by `complement run`)\n\n"
BACKUP_SUFFIX = ".bak"


def keep_experiment(ws: Workspace, config: dict[str, Any]) -> None:
    """Make the workspace's ``complement.toml`` the experiment being run (validated, paths resolved), which
    ``complement run -w WS`` without a file, ``complement report`` and ``complement ingest`` read.

    Written once every check has passed and before the first step runs, so it also names the experiment of a
    run that stops or fails half-way (``complement run -w WS`` resumes it). A file that already holds the same
    experiment is left as it is (with its comments: the file ``complement run -w WS`` reads), and a file this
    function did not write (a hand-written experiment, ``complement init``'s) is kept as ``complement.toml.bak``
    before it is replaced."""
    path = ws.config_path
    if path.is_file():
        try:
            if schema.load(path) == config:
                return
        except ComplementError:
            pass  # not an experiment this run could read (an init file, a broken one): replaced, kept below
        held = path.read_bytes()
        if not held.startswith(RUN_COPY_HEADER.encode()):
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            atomic.write_bytes(held, backup)
            message(f"note: {path} held another experiment, now kept as {backup.name}; it holds this run's now")
    ws.root.mkdir(parents=True, exist_ok=True)
    ws.write_config(config, header=RUN_COPY_HEADER)


# ---- step runners: each builds its step's options from the experiment table and calls its verb ----
def _ingest(ws: Workspace, step: Step, config: dict) -> int:
    from .. import steps

    result = steps.ingest(ws, {"dataset": step.settings["dataset"], "split": step.settings["split"]})
    for line in result.notes:
        message(f"  {line}")
    return result.rows


def _embed(ws: Workspace, step: Step, config: dict) -> int:
    from .. import steps

    s = {k: v for k, v in step.settings.items() if k not in schema.EMBED_NAMES}
    model = None if step.settings["embed"] in ("default", "", None) else step.settings["embed"]
    options = steps.EmbedOptions.from_mapping({**s, "model": model}, f"view '{step.view}'")
    return steps.embed(ws, step.view or "", options).rows


def _import(ws: Workspace, step: Step, config: dict) -> int:
    from .. import steps
    from ..embed.importer import import_vectors

    s = step.settings
    options = steps.ImportOptions.from_mapping(s, f"view '{step.view}'", ignore=(*schema.IMPORT_NAMES, "files"))
    view = step.view or ""
    result = import_vectors(ws, view, s["from"], options.ids, entity="item")
    if options.user_from:
        import_vectors(ws, view, options.user_from, options.user_ids, entity="user")
        steps.topk(ws, step.view or "", k=options.k, exclude=options.exclude, device=options.device)
    return result.n_rows if hasattr(result, "n_rows") else 0


def _train(ws: Workspace, step: Step, config: dict) -> int:
    from .. import steps

    check_hand_made_text_views(ws, config, only=step.settings.get("name"))  # this run's ingest may have made it stale

    s = {k: v for k, v in step.settings.items() if k not in schema.TRAIN_NAMES}
    options = steps.TrainOptions.from_mapping({k: v for k, v in s.items() if k in steps.TrainOptions.keys()})
    hyper = {k: v for k, v in s.items() if k not in steps.TrainOptions.keys()}
    return steps.train(ws, step.settings["model"], step.view, options, **hyper).rows


def _fuse(ws: Workspace, step: Step, config: dict) -> int:
    from .. import steps

    s = step.settings
    options = steps.FuseOptions.from_mapping(s, f"fusion '{step.view}'", ignore=schema.FUSION_NAMES)
    return steps.fuse(ws, s["views"], s["method"], step.view or "", options).rows


def _neighbors(ws: Workspace, step: Step, config: dict) -> int:
    from ..scoring import write_neighbors

    return write_neighbors(ws, step.view or "", k=step.settings["k"], device=step.settings["device"])


MULTI_VIEW_MIN = 3
"""``multi_view`` needs this many lists (views in ``topk``); a run with fewer skips it instead of failing."""


def _diagnostics(ws: Workspace, step: Step, config: dict) -> int:
    from ..diagnostics.headers import find
    from ..diagnostics.runner import diagnose

    s = step.settings
    out_dir = ws.root / RESULTS_DIR
    total = 0
    lists = ws.parts("topk")
    if not lists:  # e.g. an experiment that only embeds text: nothing to diagnose, not an error
        message("  diagnostics skipped: no view has top-K lists (a [[view]] with a model or lists, or a [[fusion]])")
    for name in s["names"]:
        diagnostic = find(name)
        declared = {p.name for p in diagnostic.params}
        tables = []
        if not lists:
            pass  # no tables: an earlier result file is removed below
        elif name == "multi_view" and len(lists) < MULTI_VIEW_MIN:
            message(f"  multi_view skipped: it compares {MULTI_VIEW_MIN} or more lists, the workspace has {len(lists)}")
        elif set(PAIR_PARAMS) <= declared:
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
        if not tables:  # skipped: an earlier result of it would pass the results lineage as current
            (out_dir / f"{name}.parquet").unlink(missing_ok=True)
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
    if any(key.startswith("topk/") and key not in recorded for key in entries):
        return False  # a view's lists made since (outside the run): the diagnostics read every view's lists
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
    from .. import steps

    s = step.settings
    options = steps.ProbeOptions.from_mapping(s, step.id, ignore=schema.PROBE_NAMES)
    return steps.probe(ws, s["source"], s["target"], options, run_id=probe_run_id(step)).rows


#: the one table of step kinds and their runners
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
