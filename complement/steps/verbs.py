"""The pipeline's verbs: ``init, ingest, embed, train, topk, fuse, probe, diagnose, report, run, drop, export``.

Each takes the workspace (a :class:`Workspace` or its folder) first and returns a
:class:`~complement.steps.results.StepResult`. A step's options come as its options object
(``complement.steps.options``) or as keywords of the same names, never both; ``train`` also takes the
model's hyperparameters as keywords. The CLI commands and ``complement run`` call these. Heavy
libraries are imported only when a step runs."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from ..atomic import file_in_the_way
from ..choices import Engine, FuseMethod, ModelName, ReportFormat, Split, check_choice
from ..errors import ConfigError, unknown_name
from ..workspace import Workspace
from .declare import flag_of
from .options import EmbedOptions, FuseOptions, ListImport, Options, ProbeOptions, TopkOptions, TrainOptions
from .results import StepResult

WorkspaceLike = Workspace | str | os.PathLike[str]
OptionsT = TypeVar("OptionsT", bound=Options)


def open_workspace(ws: WorkspaceLike) -> Workspace:
    if isinstance(ws, Workspace):
        return ws
    if not isinstance(ws, (str, os.PathLike)):
        raise ConfigError(f"the workspace is a Workspace or its folder (a str or a path), not {type(ws).__name__}")
    return Workspace(ws)


def _check_kinds(where: str, values: dict[str, Any], kinds: dict[str, tuple[type, ...]]) -> None:
    """Refuse a keyword of the wrong type with one line (a bool is a bool, a name a str, a file a str or path)
    rather than a TypeError from deep inside."""
    for name, value in values.items():
        allowed = kinds[name]
        if value is None or (isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)):
            continue
        wanted = " or ".join("a path" if k is os.PathLike else f"a {k.__name__}" for k in allowed)
        raise ConfigError(f"complement.{where}(): {name} must be {wanted}, not {value!r}")


_NAME, _FILE, _FLAG = (str,), (str, os.PathLike), (bool,)


def resolve_options(cls: type[OptionsT], options: OptionsT | None, keywords: dict[str, Any]) -> OptionsT:
    """The step's options: the object given, or built from keywords (unknown names are errors)."""
    where = f"complement.{cls.step}()"
    if options is not None:
        if keywords:
            raise ConfigError(f"{where}: pass the options object or keywords ({', '.join(keywords)}), not both")
        if not isinstance(options, cls):
            raise ConfigError(f"{where}: options must be a {cls.__name__}, not {type(options).__name__}")
        return options.checked(where, bounds=False)
    unknown = [key for key in keywords if key not in cls.keys()]
    if unknown:
        return cls.from_mapping(keywords, where)  # raises, naming the allowed keys
    return cls(**keywords).checked(where, bounds=False)


def init(directory: WorkspaceLike, dataset: str, *, force: bool = False, **options: Any) -> StepResult:
    """Create a workspace from a dataset and ingest it. ``dataset`` is a kind (``movielens``, ``generic`` …)
    with ``path=`` and the split options of ``complement init``, or ``synthetic`` with the generator's
    knobs (``users=``, ``items=``, ``seed=`` …, as ``complement synth``)."""
    started = time.perf_counter()
    root = directory.root if isinstance(directory, Workspace) else Path(directory)
    # said of the folder given, not of the lock file inside it that would be made first
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root} is a file, not a folder: give a new or existing folder for the workspace")
    if (blocker := file_in_the_way(root)) is not None:
        raise ConfigError(f"{root}: {blocker} is a file, not a folder")
    from ..data.loaders import SYNTHETIC, is_synthetic, resolve_kind

    if is_synthetic(dataset):
        dataset = SYNTHETIC
    else:
        resolve_kind(dataset)  # a mistyped kind is named first (with the closest kind), not as a missing path
        if options.get("path") is None:
            raise ConfigError(f"init(dataset={dataset!r}) needs path=: the dataset folder or file")
    settings = {"dataset": dataset, **options}
    if dataset == SYNTHETIC:
        from ..data.synth import SynthConfig, synthesize

        knobs = [f.name for f in dataclasses.fields(SynthConfig)]
        for key in options:
            if key not in (*knobs, "split", "ratios"):
                raise ConfigError(
                    "synthetic data is generated, not loaded (`complement synth DIR`): "
                    + unknown_name("generator setting", key, (*knobs, "split", "ratios"))
                )
        if (config := Workspace(root).config_path).exists() and not force:
            raise ConfigError(f"{config} already exists: pass force=True to replace it")
        summary = synthesize(root, **options)
        return _ingested("init", Workspace(root), summary, started, settings)
    from ..data.loaders import init as init_workspace

    ws, summary = init_workspace(root, force=force, dataset=dataset, **options)
    return _ingested("init", ws, summary, started, settings)


def ingest(ws: WorkspaceLike, config: dict[str, Any] | None = None) -> StepResult:
    """Rebuild items, users and interactions from the workspace's ``complement.toml`` (or ``config``)."""
    from ..data.loaders import ingest as ingest_tables

    ws = open_workspace(ws)
    started = time.perf_counter()
    return _ingested("ingest", ws, ingest_tables(ws, config), started, config or {})


def _ingested(step: str, ws: Workspace, summary: Any, started: float, settings: dict[str, Any]) -> StepResult:
    details = summary.as_dict()
    details |= {f"{name}_rows": n for name, n in details.pop("splits").items()}
    details.pop("dropped")
    seconds = time.perf_counter() - started
    notes = summary.lines()
    # what was made from the data before (views, probe runs) and is stale now, from the lineage; `synthesize`
    # (init of synthetic data) says it itself
    from ..data.loaders import SYNTHETIC
    from ..lineage import stale_summary

    if not (step == "init" and settings.get("dataset") == SYNTHETIC) and (stale := stale_summary(ws.catalog())):
        notes.append(f"note: views computed on the previous data are now stale: {stale}")
    return StepResult(step, ws, None, summary.interactions, seconds, dict(settings), details, notes=notes)


def embed(
    ws: WorkspaceLike,
    view: str = "text",
    options: EmbedOptions | None = None,
    *,
    shard: str | None = None,
    **keywords: Any,
) -> StepResult:
    """Embed every item's text with a sentence-transformers model into ``view`` (cached); ``shard="I/N"``
    embeds only the I-th of N item ranges (the last shard to finish commits the view)."""
    from ..embed.encoder import embed as embed_items

    ws, opts, started = open_workspace(ws), resolve_options(EmbedOptions, options, keywords), time.perf_counter()
    result = embed_items(ws, view=view, **opts.as_dict(), shard=shard)
    details = dataclasses.asdict(result)
    return StepResult("embed", ws, view, result.n_items, time.perf_counter() - started, opts.as_dict(), details)


def train(
    ws: WorkspaceLike,
    model: ModelName | str,
    view: str | None = None,
    options: TrainOptions | None = None,
    **keywords: Any,
) -> StepResult:
    """Train ``model`` and write its view; keywords are :class:`TrainOptions` fields or the model's
    hyperparameters (``epochs``, ``dim``, ``lr`` …; an unknown one is an error)."""
    from ..embed.train import train_view

    ws, started = open_workspace(ws), time.perf_counter()
    step_keys = {k: keywords.pop(k) for k in list(keywords) if k in TrainOptions.keys()}
    opts = resolve_options(TrainOptions, options, step_keys)
    name = check_choice(ModelName, model, "model", "model").value
    summary = train_view(ws, name, view, **opts.as_dict(), **keywords)
    written = summary["view"]
    rows = ws.query("SELECT count(*) FROM topk WHERE view = $v", {"v": written}).column(0)[0].as_py()
    settings = {"model": name, **opts.as_dict(), **keywords}
    return StepResult("train", ws, written, rows, time.perf_counter() - started, settings, summary)


def topk(
    ws: WorkspaceLike,
    view: str,
    options: TopkOptions | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    user_col: str | None = None,
    item_col: str | None = None,
    score_col: str | None = None,
    rank_col: str | None = None,
    id_map: str | os.PathLike[str] | None = None,
    drop_unknown: bool = False,
    **keywords: Any,
) -> StepResult:
    """Exact top-K items per user of ``view`` (score = user · item), seen items masked.

    With ``source`` (``complement topk --from FILE``) the view's lists are imported from that file instead:
    a TREC run, a ranx run JSON or CSV/TSV/Parquet lists (``fmt``: default from the extension; ``user_col``
    … ``rank_col`` name a table's columns, ``id_map`` translates its ids, ``drop_unknown`` drops rows with
    unknown users or items; docs/interop.md). The whole file is checked before anything is written;
    ``k`` is then the longest list accepted, ``shard`` is refused, and ``details`` has ``users`` and
    ``rank_from`` (rank, score or order: where the ranks came from). The list keywords without a
    ``source`` are refused."""
    from ..checks import integer
    from ..shards import parse
    from ..tables import check_new_view_name, check_tables, check_view_name

    _check_kinds(
        "topk",
        {"view": view, "source": source, "fmt": fmt, "user_col": user_col, "item_col": item_col},
        {"view": _NAME, "source": _FILE, "fmt": _NAME, "user_col": _NAME, "item_col": _NAME},
    )
    _check_kinds(
        "topk",
        {"score_col": score_col, "rank_col": rank_col, "id_map": id_map, "drop_unknown": drop_unknown},
        {"score_col": _NAME, "rank_col": _NAME, "id_map": _FILE, "drop_unknown": _FLAG},
    )
    ws, opts, started = open_workspace(ws), resolve_options(TopkOptions, options, keywords), time.perf_counter()
    lists = ListImport(
        fmt=fmt,
        user_col=user_col,
        item_col=item_col,
        score_col=score_col,
        rank_col=rank_col,
        id_map=Path(id_map) if id_map is not None else None,
        drop_unknown=drop_unknown,
    )
    integer("--k", opts.k, minimum=1)
    if source is None:
        check_view_name(view)  # scoring derives a view's own lists from its vectors
        given = [flag_of(f) for f in dataclasses.fields(lists) if getattr(lists, f.name) not in (None, False)]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply with --from FILE")
    else:
        check_new_view_name(view)  # an import writes the view anew
    if source is not None:  # what only scoring reads: refused rather than ignored
        scoring_only = (("--shard", parse(opts.shard) is not None), ("--device", opts.device != TopkOptions.device))
        for flag, is_set in scoring_only:
            if is_set:
                raise ConfigError(f"{flag} applies to scoring vectors, not with --from FILE")
    check_tables(ws, "items", "users", "interactions", "embeddings", views=[view])
    if source is not None:
        return _import_lists(ws, view, Path(source), lists, opts, started)
    if ws.is_list_view(view):
        from ..listview import is_fusion, list_view_error, made_by

        command = made_by(ws, view)
        if is_fusion(command):  # the fusion makes its lists again; there is no file to re-import
            remake = "its lists are remade by running that fusion again"
        else:
            remake = f"re-import it with `complement topk --view {view} --from FILE`"
        raise list_view_error(ws, view, f"it has no vectors to score; {remake}")
    from ..scoring import write_topk

    rows = write_topk(ws, view, **opts.as_dict())
    return StepResult("topk", ws, view, rows, time.perf_counter() - started, opts.as_dict())


def _import_lists(
    ws: Workspace, view: str, source: Path, lists: ListImport, opts: TopkOptions, started: float
) -> StepResult:
    from ..interop import Columns, import_topk

    exclude = opts.as_dict()["exclude"]
    checked = import_topk(
        ws,
        source,
        view,
        fmt=lists.fmt,
        columns=Columns(lists.user_col, lists.item_col, lists.score_col, lists.rank_col),
        id_map=lists.id_map,
        drop_unknown=lists.drop_unknown,
        k=opts.k,
        exclude=exclude,
    )
    settings = {"source": str(source), **dataclasses.asdict(lists), "k": opts.k, "exclude": exclude}
    settings["id_map"] = str(lists.id_map) if lists.id_map is not None else None
    details = {
        "users": checked.users,
        "rank_from": checked.rank_from,
        "dropped_rows": checked.dropped,
        "masked_pairs": checked.masked_pairs,
    }
    rows = checked.table.num_rows
    return StepResult("topk", ws, view, rows, time.perf_counter() - started, settings, details)


def fuse(
    ws: WorkspaceLike,
    views: str | Sequence[str],
    method: FuseMethod | str,
    view: str,
    options: FuseOptions | None = None,
    **keywords: Any,
) -> StepResult:
    """Fuse two views (``ranker``: two or more) into ``view`` with its own top-K lists."""
    from ..fusion.run import fuse as fuse_views

    ws, opts, started = open_workspace(ws), resolve_options(FuseOptions, options, keywords), time.perf_counter()
    chosen = check_choice(FuseMethod, method, "method", "fusion method").value
    result = fuse_views(ws, views, chosen, view, **opts.as_dict())
    details = {"method": result.method, "weight": result.weight}
    settings = {"views": list(views) if not isinstance(views, str) else views, "method": chosen, **opts.as_dict()}
    return StepResult("fuse", ws, view, result.rows, time.perf_counter() - started, settings, details)


def export(
    ws: WorkspaceLike,
    *,
    view: str | None = None,
    qrels: bool = False,
    split: Split | str | None = None,
    recbole: str | os.PathLike[str] | None = None,
    fmt: str | None = None,
    out: str | os.PathLike[str] | None = None,
) -> StepResult:
    """Write exactly one of: ``view``'s top-K lists as a run file (``out``; ``fmt`` trec, ranx, csv, tsv
    or parquet), the ground truth as qrels (``qrels=True``, the ``split`` pairs, default test; trec or
    ranx) or the dataset and its split as RecBole benchmark files (``recbole=DIR``, no ``out`` or
    ``fmt``). ``fmt`` defaults to what ``out``'s extension names. Every argument is checked before
    anything is written; ``details['path']`` is the file (or folder) written, ``rows`` the rows written
    (docs/interop.md)."""
    from ..interop import export_qrels, export_recbole, export_view
    from ..tables import check_tables

    _check_kinds(
        "export",
        {"view": view, "recbole": recbole, "fmt": fmt, "out": out},
        {"view": _NAME, "recbole": _FILE, "fmt": _NAME, "out": _FILE},
    )
    ws, started = open_workspace(ws), time.perf_counter()
    if not isinstance(qrels, bool):
        raise ConfigError(f"qrels is True or False, not {qrels!r}")
    chosen = [
        name
        for name, on in (("--view", view is not None), ("--qrels", qrels), ("--recbole", recbole is not None))
        if on
    ]
    if len(chosen) != 1:
        raise ConfigError(
            f"export takes exactly one of --view NAME, --qrels, --recbole DIR (got: {', '.join(chosen) or 'none'})"
        )
    if split is not None and not qrels:  # given at all, even as the default: --view and --recbole would ignore it
        raise ConfigError(f"--split applies to --qrels only, not to {chosen[0]}")
    settings: dict[str, Any] = {
        "view": view,
        "qrels": qrels,
        "split": None,
        "recbole": str(recbole) if recbole is not None else None,
        "fmt": fmt,
        "out": str(out) if out is not None else None,
    }
    if recbole is not None:
        if out is not None or fmt is not None:
            raise ConfigError("--recbole DIR writes its own files; it takes no --out or --format")
        check_tables(ws, "items", "users", "interactions")
        counts = export_recbole(ws, recbole)
        details: dict[str, Any] = {"path": str(recbole), "files": counts}
        return StepResult("export", ws, None, sum(counts.values()), time.perf_counter() - started, settings, details)
    if out is None:
        raise ConfigError(f"{chosen[0]} needs --out FILE")
    check_tables(ws, "items", "users", "interactions", *(("topk",) if view is not None else ()), views=[view or ""])
    if qrels:
        settings["split"] = check_choice(Split, split if split is not None else Split.test, "--split", "split").value
        rows = export_qrels(ws, out, fmt, split=settings["split"])
        details = {"path": str(out), "split": settings["split"]}
    else:
        if view is None:  # unreachable: exactly one of view, qrels, recbole was checked above
            raise ConfigError("export needs --view NAME")
        rows, details = export_view(ws, view, out, fmt), {"path": str(out)}
    return StepResult("export", ws, view, rows, time.perf_counter() - started, settings, details)


def drop(ws: WorkspaceLike, views: str | Sequence[str]) -> StepResult:
    """Remove views (a name or a list of names): their vectors, top-K lists, neighbour lists and staged
    shards, in one commit (:func:`complement.viewkind.drop_views`)."""
    from ..viewkind import drop_views

    ws, started = open_workspace(ws), time.perf_counter()
    names = [views] if isinstance(views, str) else list(views)
    dropped = drop_views(ws, names)
    return StepResult(
        "drop",
        ws,
        ",".join(names),
        sum(len(tables) for tables in dropped.values()),
        time.perf_counter() - started,
        {"views": names},
        {"dropped": dropped},
    )


def probe(
    ws: WorkspaceLike,
    source: str,
    target: str,
    options: ProbeOptions | None = None,
    *,
    run_id: str | None = None,
    **keywords: Any,
) -> StepResult:
    """Map ``source`` item vectors to ``target`` ones with each mapper, shift and seed; the rows
    written to ``probes`` are the result's table."""
    from ..probes.run import run_probe
    from ..tables import check_tables

    ws, opts, started = open_workspace(ws), resolve_options(ProbeOptions, options, keywords), time.perf_counter()
    check_tables(ws, "items", "users", "interactions", "embeddings", views=[source, target])
    table = run_probe(ws, source, target, run_id=run_id, **opts.as_dict())
    written = table.column("run_id")[0].as_py() if table.num_rows else run_id
    settings = {"source": source, "target": target, **opts.as_dict()}
    return StepResult(
        "probe", ws, target, table.num_rows, time.perf_counter() - started, settings, {"run_id": written}, table
    )


def diagnose(
    ws: WorkspaceLike,
    name: str,
    *,
    allow_stale: bool = False,
    engine: Engine | str = Engine.duckdb,
    master: str | None = None,
    **params: Any,
) -> StepResult:
    """Run the diagnostic ``name`` (a built-in name or a ``.sql`` path); its rows are the result's table.

    ``params`` are its declared parameters (``k``, ``view_a``, ``view_b``, ``views`` …); a list for
    ``k`` runs it once per K; ``engine="spark"`` runs it on Spark (``master``, default ``local[2]``).
    Example: ``complement.diagnose("ws", "overlap", view_a="a", view_b="b")``."""
    ws, started = open_workspace(ws), time.perf_counter()
    chosen = check_choice(Engine, engine, "engine", "engine")
    if master is not None and chosen is not Engine.spark:
        raise ConfigError("--master applies to --engine spark only")
    if master is not None and not (master == "yarn" or master.startswith(("local", "spark://", "k8s://"))):
        # what Spark itself accepts; it says so only after starting a JVM, in a Java stack trace
        raise ConfigError(f"--master must be local[N], yarn, spark://HOST:PORT or k8s://URL, not '{master}'")
    if chosen is Engine.spark:
        from ..diagnostics.headers import find
        from ..diagnostics.runner import check_fresh
        from ..diagnostics.spark import DEFAULT_MASTER, diagnose_spark

        if not allow_stale:
            views = {key: value for key, value in params.items() if key in ("view", "view_a", "view_b", "views")}
            check_fresh(ws, find(name), views)
        table = diagnose_spark(ws, name, master=master or DEFAULT_MASTER, **params)
    else:
        from ..diagnostics.runner import diagnose as run_diagnostic

        table = run_diagnostic(ws, name, allow_stale=allow_stale, **params)
    settings = {"name": name, "engine": chosen.value, **params}
    return StepResult("diagnose", ws, None, table.num_rows, time.perf_counter() - started, settings, {}, table)


def report(
    ws: WorkspaceLike,
    out: str | os.PathLike[str] | None = None,
    *,
    fmt: ReportFormat | str | None = None,
    pair: tuple[str, str] | None = None,
    ks: list[int] | None = None,
    allow_stale: bool = False,
    figures_dir: str | os.PathLike[str] | None = None,
) -> StepResult:
    """Write the workspace's report (HTML or Markdown); ``details['path']`` is where it went. With
    ``figures_dir``, each figure is also written there as PDF and SVG. ``fmt`` (html or markdown) defaults
    to what ``out``'s suffix names (.html/.htm, .md/.markdown), else html; a suffix naming the other format
    is refused, and so is an ``out`` with another suffix unless ``fmt`` is given."""
    from ..report import write_report

    ws, started = open_workspace(ws), time.perf_counter()
    fmt = report_format(fmt, out)
    figures = Path(figures_dir) if figures_dir is not None else None
    path = write_report(ws, Path(out) if out is not None else None, fmt, pair, ks, allow_stale, figures)
    settings = {
        "out": str(out) if out else None,
        "fmt": fmt,
        "pair": pair,
        "ks": ks,
        "allow_stale": allow_stale,
        "figures_dir": str(figures) if figures else None,
    }
    return StepResult("report", ws, None, 0, time.perf_counter() - started, settings, {"path": str(path)})


REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


def report_format(fmt: ReportFormat | str | None, out: str | os.PathLike[str] | None) -> str:
    """The report's format: ``fmt`` when given, else the one ``out``'s suffix names, else html."""
    name = str(out) if out is not None else ""
    named = REPORT_SUFFIXES.get(Path(name).suffix.lower()) if name else None
    if fmt is None:
        if name and named is None:
            raise ConfigError(f"--out {name}: name an .html or .md file, or pass --format html or markdown")
        return named or ReportFormat.html.value
    chosen = check_choice(ReportFormat, fmt, "fmt", "report format").value
    if named is not None and named != chosen:
        raise ConfigError(f"--format {chosen} does not match --out {name} (a {named} file); change one of them")
    return chosen


def run(
    ws: WorkspaceLike,
    experiment: str | os.PathLike[str] | None = None,
    *,
    overrides: list[str] | None = None,
    force: list[str] | None = None,
    dry_run: bool = False,
) -> StepResult:
    """Bring the workspace up to date with an experiment file (default: its ``complement.toml``);
    the result's table is the plan: every step, whether it ran, and why."""
    from ..experiment import load, run_experiment

    ws, started = open_workspace(ws), time.perf_counter()
    path = Path(experiment) if experiment is not None else ws.config_path
    config = load(path, overrides)
    statuses = run_experiment(ws, config, force=force, dry_run=dry_run, source=path.name)
    plan = pa.table(
        {
            "step": [s.step.id for s in statuses],
            "action": [s.action for s in statuses],
            "reason": [s.reason for s in statuses],
            "depends_on": [", ".join(s.step.deps) for s in statuses],
        }
    )
    settings = {"experiment": str(experiment) if experiment else None, "overrides": overrides or [], "force": force}
    ran = sum(s.action == "run" for s in statuses)
    details = {"steps": len(statuses), "ran": 0 if dry_run else ran, "dry_run": dry_run}
    return StepResult("run", ws, None, len(statuses), time.perf_counter() - started, settings, details, plan)
