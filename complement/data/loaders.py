"""The dataset kinds, and ``init`` / ``ingest``: from ``complement.toml`` to the workspace tables.

``complement.toml`` (docs/ingestion.md)::

    [dataset]
    kind = "movielens"            # movielens | recbole | amazon2023 | generic (or an alias)
    path = "/data/ml-100k"        # folder or file; relative paths are relative to the workspace
    template = "{title}. Genres: {genres}."   # optional; default per kind
    min_rating = 4.0              # optional
    kcore = 0                     # 0 or 1: off
    # collapse_repeats = true     # optional; default: true, false for sequence data
    # generic only: user_col, item_col, time_col, rating_col, items, text_cols = ["title", ...]

    [split]
    method = "random"             # random | loo | temporal
    ratios = [0.8, 0.1, 0.1]
    seed = 2020
    # temporal_cutoffs = [0.8, 0.9]   # quantiles of time, temporal only
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..checks import comma_list, finite, integer
from ..checks import seed as check_seed
from ..errors import ConfigError, DataError, unknown_name
from ..workspace import Workspace
from . import amazon2023, generic, movielens, recbole, splits, text
from .config import check_config, read_config
from .generic import Loaded
from .pipeline import IngestSummary, build_tables

#: kind -> (loader, what it reads)
KINDS: dict[str, tuple[Callable[[Path, dict], Loaded], str]] = {
    "movielens": (movielens.load, "MovieLens: ml-100k (u.data), ml-1m/ml-10m (.dat), ml-latest(-small)/ml-25m (.csv)"),
    "recbole": (recbole.load, "RecBole atomic files: .inter (plain or sequential), .item, UniSRec .text/.item2index"),
    "amazon2023": (amazon2023.load, "Amazon Reviews 2023 JSONL: reviews + meta_ files (.jsonl or .jsonl.gz)"),
    "generic": (
        generic.load,
        "CSV/TSV/Parquet with --user-col --item-col [--time-col --rating-col --items --text-cols]",
    ),
}
ALIASES = {
    **{
        name: "movielens"
        for name in ("ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest", "ml-latest-small")
    },
    "unisrec": "recbole",
    "amazon": "amazon2023",
    "csv": "generic",
    "tsv": "generic",
    "parquet": "generic",
}
GENERIC_OPTIONS = ("user_col", "item_col", "time_col", "rating_col", "items", "text_cols")
DEFAULT_SPLIT = {"method": "random", "ratios": [0.8, 0.1, 0.1], "seed": 2020}


#: the kind of generated data: ``complement init DIR --dataset synthetic`` (or ``complement synth DIR``)
SYNTHETIC = "synthetic"


def kind_choices() -> list[str]:
    """Every name ``init --dataset`` and ``[dataset].kind`` accept: the kinds, their aliases, and synthetic."""
    return [*KINDS, *ALIASES, SYNTHETIC]


def is_synthetic(kind: object) -> bool:
    """Whether ``kind`` names generated data (case and surrounding blanks ignored, as for the other kinds)."""
    return isinstance(kind, str) and kind.strip().lower() == SYNTHETIC


def resolve_kind(kind: str) -> str:
    """The canonical kind of a kind or alias of loaded data, or a :class:`DataError` that names every kind
    (synthetic included) with the closest one to a typo."""
    name = (kind or "").strip().lower()
    if name in KINDS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    if name == SYNTHETIC and kind == SYNTHETIC:  # a loader was asked for generated data
        raise DataError(
            "synthetic data is generated, not loaded: run `complement init DIR --dataset synthetic` or "
            "`complement synth DIR`"
        )
    raise DataError(unknown_name("dataset kind", str(kind), kind_choices()))


def dataset_path(dataset: dict[str, Any], root: Path | None = None) -> Path:
    """``dataset['path']`` as ingest reads it (``~`` expanded, a relative path relative to ``root``)."""
    if not dataset.get("path"):
        raise ConfigError("[dataset] needs a path (complement init DIR --dataset KIND --path PATH)")
    path = Path(os.path.expanduser(str(dataset["path"])))
    if not path.is_absolute() and root is not None:
        path = root / path
    return path


def check_dataset_files(dataset: dict[str, Any], root: Path | None = None) -> None:
    """The files a loaded dataset's ingest reads are there: ``[dataset].path`` and, for the generic kind, its
    ``items`` file. Ingest checks them before it reads anything, and ``complement run`` (``--dry-run`` too)
    before it writes anything, with the same messages."""
    kind = resolve_kind(str(dataset.get("kind", "")))
    generic.existing_path(dataset_path(dataset, root))
    if kind == "generic" and dataset.get("items"):
        generic.existing_path(dataset["items"], "items file")


def load_dataset(dataset: dict[str, Any], root: Path | None = None) -> Loaded:
    """Run the loader of ``dataset['kind']`` on ``dataset['path']`` (relative to ``root``)."""
    kind = resolve_kind(str(dataset.get("kind", "")))
    check_dataset_files(dataset, root)
    loader, _ = KINDS[kind]
    return loader(dataset_path(dataset, root), dataset)


def render_items(loaded: Loaded, template: str | None) -> pa.Table | None:
    """Item fields with ``text`` rendered from ``template`` (or the kind's default) and titles cleaned."""
    items = loaded.items
    if items is None:
        if template:
            raise DataError("a --template was given but the dataset has no item text files")
        return None
    template = template or loaded.template
    rendered = text.render(template, items) if template else pa.nulls(items.num_rows, pa.string())
    if "title" in items.column_names:
        titles = pa.array([text.normalise(t) for t in items["title"].to_pylist()], pa.string())
        items = items.set_column(items.column_names.index("title"), "title", titles)
    if "text" in items.column_names:
        items = items.drop_columns(["text"])
    return items.append_column("text", rendered)


def _split_settings(config: dict[str, Any]) -> dict[str, Any]:
    split = {**DEFAULT_SPLIT, **(config.get("split") or {})}
    if split["method"] not in splits.METHODS:
        raise ConfigError(unknown_name("split method", str(split["method"]), splits.METHODS))
    return split


def check_settings(config: dict[str, Any], source: str = "complement.toml") -> None:
    """What ingest checks of ``[dataset]`` and ``[split]`` before it reads any data: the values' kinds, the
    split method and ratios, and a synthetic dataset's generator settings. ``complement run`` calls it when it
    loads an experiment, before it writes anything."""
    dataset = config.get("dataset") or {}
    if dataset.get("kind") != "synthetic":
        try:
            resolve_kind(str(dataset.get("kind")))
        except DataError as exc:
            raise ConfigError(f"{source}: [dataset].kind: {exc}") from None
    check_config(config, source)
    split = _split_settings(config)
    try:
        if dataset.get("kind") != "synthetic":  # named as the file's key, not as init's --kcore
            integer("[dataset].kcore", dataset.get("kcore"), minimum=0)
        check_seed("[split] seed", split.get("seed"))
        splits.check_split(str(split["method"]), split["ratios"], split.get("temporal_cutoffs"))
        if dataset.get("kind") == "synthetic":
            from .synth import SynthConfig

            SynthConfig.from_dict(dict(dataset))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def ingest(ws: Workspace, config: dict[str, Any] | None = None) -> IngestSummary:
    """(Re)build ``items``, ``users`` and ``interactions`` of ``ws`` from its ``complement.toml``
    (or from ``config``). Records an ``ingest`` row in ``runs``."""
    from ..runs import RunRecord, recorded

    from_file = config is None
    if config is None:
        ws.check_exists()  # a missing or mistyped -w, or a folder that is no workspace, is named as such
        if not ws.config_path.is_file():  # a workspace of the library's synthesize: tables, no complement.toml
            raise ConfigError(
                f"{ws.config_path} does not exist: ingest rebuilds the tables from it; write it with "
                "`complement init DIR --dataset KIND --path PATH` (or `complement synth DIR`)"
            )
        config = read_config(ws.config_path)
    dataset = config.get("dataset")
    if not dataset:
        where = str(ws.config_path) if from_file else "the config given"
        raise ConfigError(f"{where} has no [dataset] table: run `complement init DIR --dataset KIND --path PATH` first")
    check_settings(config, str(ws.config_path))  # kinds, split method, ratios and seed: before anything is written
    if str(dataset.get("kind")) == "synthetic":
        from .synth import ingest_synthetic  # generated, not loaded: it also writes the truth views

        return ingest_synthetic(ws, config)
    split = _split_settings(config)
    loaded = load_dataset(dataset, ws.root)
    items = render_items(loaded, dataset.get("template"))
    params = {"dataset": dataset, "split": split}
    with recorded(ws, RunRecord(step="ingest", params=params, seed=int(split["seed"]))) as record:
        summary = build_tables(
            ws,
            loaded.interactions,
            items,
            min_rating=dataset.get("min_rating"),
            kcore=int(dataset.get("kcore", 0) or 0),
            split=str(split["method"]),
            ratios=tuple(split["ratios"]),
            seed=int(split["seed"]),
            temporal_cutoffs=tuple(split["temporal_cutoffs"]) if split.get("temporal_cutoffs") else None,
            collapse_repeats=dataset.get("collapse_repeats"),
        )
        record.rows = summary.interactions
        record.metrics = summary.as_dict()
    return summary


def make_config(
    dataset: str,
    path: str | os.PathLike,
    *,
    split: str = "random",
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 2020,
    kcore: int = 0,
    min_rating: float | None = None,
    template: str | None = None,
    temporal_cutoffs: tuple[float, float] | None = None,
    collapse_repeats: bool | None = None,
    **generic_options: Any,
) -> dict[str, Any]:
    """The ``complement.toml`` content for these settings (validated, paths made absolute)."""
    kind = resolve_kind(dataset)  # a mistyped kind first: it decides which other options apply
    unknown = sorted(set(generic_options) - set(GENERIC_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown dataset option(s) {', '.join(unknown)} (choose from: {', '.join(GENERIC_OPTIONS)})")
    if split not in splits.METHODS:
        raise ConfigError(unknown_name("split method", split, splits.METHODS))
    splits.check_split(split, ratios, temporal_cutoffs)
    if template:
        text.template_fields(template)
    # an empty path is refused, not read as Path(""), the current folder (a failed `$(complement fetch ...)`)
    for name, what in (("path", "the dataset folder or file"), ("items", "the items file")):
        value = path if name == "path" else generic_options.get(name)
        if isinstance(value, str) and not value.strip():
            raise ConfigError(f"{name}= is empty: give {what}")
    resolved = generic.existing_path(path)
    section: dict[str, Any] = {"kind": dataset, "path": str(generic.absolute(resolved))}
    if template:
        section["template"] = template
    if min_rating is not None:
        section["min_rating"] = finite("--min-rating", min_rating)
    section["kcore"] = integer("--kcore", kcore, minimum=0)
    check_seed("--seed", seed)
    if collapse_repeats is not None:
        section["collapse_repeats"] = bool(collapse_repeats)
    if kind == "generic":
        for key in GENERIC_OPTIONS:
            value = generic_options.get(key)
            if value:
                if key == "items":
                    value = str(generic.absolute(generic.existing_path(value, "items file")))
                if key == "text_cols" and isinstance(value, str):
                    value = comma_list("--text-cols", value)
                section[key] = value
    elif any(generic_options.get(k) for k in GENERIC_OPTIONS):
        given = ", ".join("--" + k.replace("_", "-") for k in GENERIC_OPTIONS if generic_options.get(k))
        raise ConfigError(f"{given} only apply to --dataset generic (this is {kind})")
    split_section: dict[str, Any] = {"method": split, "ratios": [float(r) for r in ratios], "seed": int(seed)}
    if temporal_cutoffs:
        split_section["temporal_cutoffs"] = [float(c) for c in temporal_cutoffs]
    return {"dataset": section, "split": split_section}


CONFIG_HEADER = "# complement experiment: `complement ingest` rebuilds the tables from [dataset] and [split].\n\n"


def init(directory: str | os.PathLike, *, force: bool = False, **options: Any) -> tuple[Workspace, IngestSummary]:
    """Create a workspace in ``directory``: ingest the dataset, then write ``complement.toml``.
    Options are those of :func:`make_config`. Nothing is written when loading or filtering fails."""
    ws = Workspace(directory)
    if ws.config_path.exists() and not force:
        raise ConfigError(
            f"{ws.config_path} already exists: run `complement ingest -w {directory}` to rebuild it, or pass --force"
        )
    config = make_config(**options)
    existing = read_config(ws.config_path)
    summary = ingest(ws, config)
    ws.write_config({**existing, **config}, header=CONFIG_HEADER)
    return ws, summary


def describe_kinds() -> list[str]:
    return [f"{name}: {about}" for name, (_, about) in KINDS.items()]


__all__ = [
    "ALIASES",
    "KINDS",
    "SYNTHETIC",
    "ingest",
    "init",
    "is_synthetic",
    "kind_choices",
    "load_dataset",
    "make_config",
    "render_items",
    "resolve_kind",
]
