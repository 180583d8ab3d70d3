"""From a validated experiment to an ordered list of steps, each with a content key.

A step's key hashes its own settings and the keys of the steps it reads, so changing a setting
re-runs that step and everything downstream of it, and nothing else. A change of the code that gives a
step other results for the same settings raises that step's revision (``RESULT_REVISIONS``), which is then
part of its key: a workspace written before the change re-runs it, and what reads it, on the next ``run``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import file_digest
from ..errors import ConfigError
from ..runs import config_hash
from .digests import Digests

#: models that read an item text-vector view (``text_view``, default ``text``)
TEXT_MODELS = ("semantic", "alpharec", "fusion", "aligned-contrastive", "aligned-mse")


def text_view_names(view: dict[str, Any]) -> tuple[str, ...]:
    """The views a text model's [[view]] reads its item text vectors from, in order of preference: its
    ``text_view`` (default ``text``) and, for the default, ``semantic``, where an earlier version wrote them
    (:func:`complement.embed.views.text_view_for`). The plan's dependency, the check that the view will exist
    and the check that a hand-made one is current all resolve it here."""
    from ..embed.views import DEFAULT_TEXT_VIEW, LEGACY_TEXT_VIEW

    text = view.get("text_view", DEFAULT_TEXT_VIEW)
    return (text, LEGACY_TEXT_VIEW) if text == DEFAULT_TEXT_VIEW else (text,)


def ingest_views(config: dict[str, Any]) -> set[str]:
    """The views the experiment's ingest writes: a synthetic dataset's truth views, else none."""
    from ..data.synth import TRUTH_COLLAB, TRUTH_SEMANTIC

    return {TRUTH_SEMANTIC, TRUTH_COLLAB} if config["dataset"].get("kind") == "synthetic" else set()


#: trained models that fuse or align the two views (fusion_gap compares them with the oracle)
FUSED_MODELS = ("fusion", "aligned-contrastive", "aligned-mse")
#: step kinds that write a view (its vectors or its top-K lists), each of the kind of view it makes
VIEW_WRITERS = ("embed", "import", "train", "fuse")
#: diagnostics that compare two views
PAIR_PARAMS = ("view_a", "view_b")
#: (step kind, model or fusion method) -> revision of its results, for the code changes that give other results
#: for the same settings; a step without an entry is revision 0, and its key does not name one (keys as before)
RESULT_REVISIONS: dict[tuple[str, str], int] = {
    # 2026-12-03: trained in float64 on the CPU (docs/models.md, "Same seed, same vectors")
    ("train", "aligned-contrastive"): 1,
    # 2026-12-03: candidate features and fit in float64 (docs/fusion.md, "Same lists on every CPU")
    ("fuse", "ranker"): 1,
    ("fuse", "gate"): 1,
}


def result_revision(kind: str, settings: dict[str, Any]) -> int:
    """The revision of a train or fuse step's results (0 for every other step)."""
    name = settings.get("model") if kind == "train" else settings.get("method") if kind == "fuse" else None
    return RESULT_REVISIONS.get((kind, name), 0) if isinstance(name, str) else 0


@dataclass
class Step:
    id: str  # e.g. "ingest", "view:lightgcn-s1", "fusion:score", "neighbors:semantic", "diagnostics", "probe:0"
    kind: str
    settings: dict[str, Any]
    deps: list[str] = field(default_factory=list)
    view: str | None = None
    seed: int | None = None
    key: str = ""
    unrevised_key: str = ""  # the key without its results revision: equal to ``key`` for a step that has none
    #: keyed with its recorded settings (the files it reads moved or were touched, their contents did not): the
    #: settings as they are now; None for a step keyed with its own settings
    anchored: dict[str, Any] | None = None
    #: the files it reads from outside the workspace as the plan found them (:func:`input_files`), for the steps
    #: that read any (ingest, import)
    inputs: list[tuple[str, Path]] = field(default_factory=list)


#: the settings keys that name the files a step reads from outside the workspace, per step kind (ingest's are
#: keys of its [dataset] table); each file is keyed by its name, size and modification time (``files``)
INPUT_PATH_KEYS: dict[str, tuple[str, ...]] = {
    "ingest": ("path", "items"),
    "import": ("from", "ids", "user_from", "user_ids"),
}


def _visible(path: Path, root: Path) -> bool:
    """Not hidden below ``root`` (``.git``, editor swap files), and not an experiment file (``.toml``): no loader
    reads those."""
    return not path.name.endswith(".toml") and not any(part.startswith(".") for part in path.relative_to(root).parts)


#: the file every workspace holds: a folder below the dataset's that holds one is a workspace, not data
WORKSPACE_MARK = "complement.toml"


def _dataset_files(path: str | None, siblings: bool = False) -> list[tuple[str, Path]]:
    """The dataset's files, as (name relative to the dataset folder, path), in the order the fingerprints list
    them: every visible file below a folder; for a file, the file itself, with ``siblings`` the visible files
    beside it too (a loader given ``u.data`` reads ``u.item`` beside it, one given a reviews file its ``meta_``
    file, one given an ``.inter`` file its ``.item`` and ``.text`` files)."""
    if not path:
        return []
    root = Path(path).expanduser()
    if root.is_dir():
        found = [p for p in root.rglob("*") if p.is_file()]
        # a workspace inside the dataset folder (`path = "."` beside `-w ws`) would count its own tables
        workspaces = {p.parent for p in found if p.name == WORKSPACE_MARK and p.parent != root}
        files = sorted(p for p in found if _visible(p, root) and not workspaces.intersection(p.parents))
        return [(str(p.relative_to(root)), p) for p in files]
    if not root.is_file():
        return []
    if not siblings:
        return [(root.name, root)]
    beside = sorted(p for p in root.parent.iterdir() if p.is_file() and _visible(p, root.parent))
    return [(p.name, p) for p in beside]


def _reads_siblings(kind: object) -> bool:
    """Whether a loader of this kind, given one file, reads the files beside it (all but the generic kind)."""
    from ..data.loaders import ALIASES, SYNTHETIC

    name = str(kind or "").strip().lower()
    return ALIASES.get(name, name) not in ("generic", SYNTHETIC)


def input_files(kind: str, settings: dict[str, Any]) -> list[tuple[str, Path]]:
    """The files a step reads from outside the workspace, as (name, path): for ingest the dataset's files (named
    relative to ``[dataset].path``, or the file's own name) and a generic dataset's items file (``[items]``); for
    an imported view each file it names (``[from]``, ``[ids]``, ...). The names do not hold the folders, so files
    moved elsewhere keep them."""
    if kind == "ingest":
        dataset = settings["dataset"]
        files = _dataset_files(dataset.get("path"), siblings=_reads_siblings(dataset.get("kind")))
        items = dataset.get("items")  # the generic kind's items file (a synthetic dataset's is a count)
        if isinstance(items, str) and items and (path := Path(items).expanduser()).is_file():
            files.append(("[items]", path))
        return files
    return [
        (f"[{key}]", path)
        for key in INPUT_PATH_KEYS.get(kind, ())
        if isinstance(value := settings.get(key), str) and value and (path := Path(value).expanduser()).is_file()
    ]


def files_fingerprint(files: list[tuple[str, Path]]) -> list:
    """[name, size, modification time in whole seconds] of each file: editing one re-runs the step that reads it
    (a file whose modification time or folder alone changed counts as unchanged when its content is the one
    recorded: ``complement.experiment.execute.anchor``)."""
    out = []
    for name, p in files:
        stat = os.stat(p)
        out.append([name, stat.st_size, int(stat.st_mtime)])
    return out


def files_digests(files: list[tuple[str, Path]], names: set[str] | None = None, cache: Digests | None = None) -> list:
    """[name, size, SHA-256] of the files (of those named in ``names`` when given), in fingerprint order; with
    ``cache``, a file whose status is the one it remembers is not read again."""
    digest = cache.digest if cache is not None else file_digest
    return [[name, os.stat(p).st_size, digest(p)] for name, p in files if names is None or name in names]


#: settings to key a step with instead of its own: ``anchor(step_id, kind, settings, inputs)`` is the settings
#: recorded for the step when they name files of the same contents as ``inputs`` (:func:`input_files` of
#: ``settings``), else None (``complement.experiment.execute.anchor``)
Anchor = Callable[[str, str, dict[str, Any], list[tuple[str, Path]]], dict[str, Any] | None]


def seeded_name(name: str, seed: int | None) -> str:
    return name if seed is None else f"{name}-s{seed}"


def build_plan(config: dict[str, Any], anchor: Anchor | None = None) -> list[Step]:
    """The experiment's steps in run order, each with its content key. The steps that read files from outside
    the workspace (:func:`input_files`) hold those files' fingerprint as their setting ``files``; ``anchor``
    may key such a step with its recorded settings instead (:class:`Step`'s ``anchored``)."""
    device = config["run"]["device"]
    seeds: list[int | None] = list(config["run"]["seeds"]) or [None]
    steps: list[Step] = []
    by_id: dict[str, Step] = {}
    written: set[str] = set()  # the views the embed, import, train and fuse steps write

    def add(step: Step) -> Step:
        if step.kind in INPUT_PATH_KEYS:
            step.inputs = input_files(step.kind, step.settings)
            step.settings = {**step.settings, "files": files_fingerprint(step.inputs)}
            if anchor is not None and (recorded := anchor(step.id, step.kind, step.settings, step.inputs)) is not None:
                step.settings, step.anchored = recorded, step.settings
        # e.g. a declared view 'mf-s1' beside a stochastic view 'mf' run with seed 1, or a fusion 'mix' run with
        # seed 1 (it writes 'mix-s1') beside an embedded view 'mix-s1'
        if step.id in by_id or (step.kind in VIEW_WRITERS and step.view in written):
            raise ConfigError(
                f"two steps of the experiment would write '{step.id.split(':', 1)[-1]}': a declared name equals "
                "the name a stochastic view or fusion takes for one of the seeds (NAME-sSEED); rename one"
            )
        keyed: dict[str, Any] = {
            "kind": step.kind,
            "settings": step.settings,
            "deps": [by_id[d].key for d in step.deps],
        }
        step.key = step.unrevised_key = config_hash(keyed)
        if revision := result_revision(step.kind, step.settings):
            step.key = config_hash({**keyed, "revision": revision})
        steps.append(step)
        by_id[step.id] = step
        if step.kind in VIEW_WRITERS and step.view is not None:
            written.add(step.view)
        return step

    add(Step("ingest", "ingest", {"dataset": config["dataset"], "split": config["split"]}))

    stochastic: set[str] = set()
    deterministic_views: dict[str, str] = {}  # declared name -> step id
    for view in config["view"]:
        if "model" not in view:
            kind = "embed" if "embed" in view else "import"
            step = add(
                Step(
                    f"view:{view['name']}",
                    kind,
                    {**view, "device": view.get("device", device)},
                    ["ingest"],
                    view["name"],
                )
            )
            deterministic_views[view["name"]] = step.id
        else:
            stochastic.add(view["name"])
    fusion_names = {f["name"] for f in config["fusion"]}

    def view_step(name: str, seed: int | None) -> str | None:
        if name in deterministic_views:
            return deterministic_views[name]
        if name in stochastic or name in fusion_names:
            return f"{'view' if name in stochastic else 'fusion'}:{seeded_name(name, seed)}"
        return None  # e.g. truth_* views written by ingestion

    def resolve(name: str, seed: int | None) -> str:
        return seeded_name(name, seed) if (name in stochastic or name in fusion_names) else name

    for seed in seeds:
        for view in config["view"]:
            if "model" not in view:
                continue
            deps = ["ingest"]
            if view["model"] in TEXT_MODELS:
                text = next((name for name in text_view_names(view) if name in deterministic_views), None)
                if text is not None:
                    deps.append(deterministic_views[text])
            settings = {**view, "device": view.get("device", device)}
            if seed is not None:
                settings["seed"] = seed
            add(Step(f"view:{resolve(view['name'], seed)}", "train", settings, deps, resolve(view["name"], seed), seed))
        for fusion in config["fusion"]:
            sources = [resolve(v, seed) for v in fusion["views"]]
            deps = [d for d in (view_step(v, seed) for v in fusion["views"]) if d]
            settings = {**fusion, "views": sources, "device": fusion.get("device", device)}
            add(
                Step(
                    f"fusion:{resolve(fusion['name'], seed)}",
                    "fuse",
                    settings,
                    deps,
                    resolve(fusion["name"], seed),
                    seed,
                )
            )

    diagnostics = config["diagnostics"]
    if "item_agreement" in diagnostics["names"] and diagnostics["pairs"]:
        needed = sorted({resolve(v, seed) for pair in diagnostics["pairs"] for v in pair for seed in seeds})
        for name in needed:
            dep = next((s.id for s in steps if s.view == name), None)
            add(
                Step(
                    f"neighbors:{name}",
                    "neighbors",
                    {"k": diagnostics["neighbors_k"], "device": device},
                    [dep] if dep else ["ingest"],
                    name,
                )
            )
    pairs: list[dict[str, Any]] = [
        {"seed": seed, "view_a": resolve(a, seed), "view_b": resolve(b, seed)}
        for seed in seeds
        for a, b in diagnostics["pairs"]
    ]
    fused_models = {v["name"] for v in config["view"] if v.get("model") in FUSED_MODELS}
    for pair in pairs:  # what fusion_gap compares with the pair: fused and aligned views of the same seed
        pair["fused"] = [resolve(n, pair["seed"]) for n in sorted(fusion_names | fused_models)]
    for i, probe in enumerate(config["probe"]):
        deps = [d for d in (view_step(probe["source"], seeds[0]), view_step(probe["target"], seeds[0])) if d]
        settings = {
            **probe,
            "source": resolve(probe["source"], seeds[0]),
            "target": resolve(probe["target"], seeds[0]),
            "device": probe.get("device", device),
        }
        add(Step(f"probe:{i}", "probe", settings, deps or ["ingest"]))

    # last, reading every step before it: the results record the fingerprints of every table in the workspace
    # (execute.write_results_lineage), probe runs included, so a step that ran after them would leave them stale
    add(
        Step(
            "diagnostics",
            "diagnostics",
            {**diagnostics, "expanded_pairs": pairs},
            ["ingest", *(s.id for s in steps if s.kind != "ingest")],
        )
    )
    return steps
