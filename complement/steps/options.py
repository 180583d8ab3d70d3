"""Each step's options, declared once.

A step's options are a frozen dataclass; each field's default is *the* default, and its metadata
(``option(...)``) carries the help text, the CLI flag, the bounds and the choices (an enum type).
From one declaration come:

* the CLI options (``cli.options.with_options`` appends one typer option per field),
* the keys ``complement run`` accepts in the experiment file's table for the step (``keys``) and
  the check of their values (``from_mapping``: an unknown key names the step and the allowed keys),
* the executor's call (``experiment/execute.py`` builds the options object from the step's table).

Adding an option to a step is one field here (and the library function's keyword of the same name).
Model hyperparameters are not declared here: the model classes' ``defaults`` are their single source
(``complement.embed.models``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from ..checks import SEED_MAX, comma_list
from ..choices import (
    BAG_SEED_STEP,
    MAX_BAG,
    MAX_FITS,
    Device,
    Exclude,
    Norm,
    Precision,
    Protocol,
    Shift,
    Split,
    SplitMethod,
)
from .declare import Options, flag_of, option

__all__ = ["STEP_OPTIONS", "Options", "flag_of", "option"]

DEVICE_HELP = "auto, cpu, cuda, or cuda:N for one GPU of several."
DEVICE_METAVAR = "<auto|cpu|cuda|cuda:N>"


def _check_mappers(names: str | list[str] | tuple[str, ...]) -> object:
    from ..errors import ConfigError
    from ..probes.base import parse_mappers  # numpy only; the mappers' torch is imported when one fits

    if not isinstance(names, str) and not all(isinstance(n, str) for n in names):
        raise ConfigError(f"mapper names are strings (e.g. ['linear', 'mlp2']), not {list(names)!r}")
    return parse_mappers(names)


def _read_mappers(text: str) -> object:
    from ..probes.base import read_mapper_names

    return read_mapper_names(text)


def _read_shard(text: str) -> object:
    from ..shards import read

    return read(text)


@dataclass(frozen=True)
class TopkOptions(Options):
    step: ClassVar[str] = "topk"
    k: int = option(100, "List length per user (with --from: the longest list accepted).", minimum=1, kind=int)
    exclude: Exclude = option(Exclude.train_valid, "Seen items to mask: train or train+valid.", choices=Exclude)
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)
    shard: str | None = option(
        None,
        "Compute only shard I of N (I/N: the I-th of N user_idx ranges); the last shard to finish commits the "
        "view (docs/design.md, Storage).",
        kind=str,
        show_default=False,
        parse=_read_shard,
    )


def _column(role: str) -> Any:
    """``user_col`` and its kin: the column of a csv, tsv or parquet list file that holds ``role``."""
    return option(None, f"With --from (csv/tsv/parquet): the {role} column.", kind=str)


# ListImport and ExportOptions are not a step's options (no table of the experiment file takes them): they are
# keywords of the topk and export verbs, declared here so that the verb (which names their flags in its errors)
# and the CLI (`with_options` makes the flags) share one declaration.


@dataclass(frozen=True)
class ListImport:
    """``topk`` with a source (``topk --from FILE``): how to read ranked lists made elsewhere
    (``interop.import_topk``); the keywords of :func:`complement.topk` beside ``source``."""

    fmt: str | None = option(
        None, "With --from: trec, ranx, csv, tsv or parquet (default: from the extension).", flag="--format", kind=str
    )
    user_col: str | None = _column("user")
    item_col: str | None = _column("item")
    score_col: str | None = _column("score")
    rank_col: str | None = _column("rank")
    id_map: Path | None = option(
        None, "With --from: TSV 'entity internal_id id' mapping the file's ids to the workspace's.", kind=Path
    )
    drop_unknown: bool = option(False, "With --from: drop rows with unknown users or items.", kind=bool)


@dataclass(frozen=True)
class ExportOptions:
    """What ``export`` writes (exactly one of view, qrels, recbole) and where; the keywords of
    :func:`complement.export`."""

    view: str | None = option(None, "Export this view's top-K lists as a run file.", kind=str)
    qrels: bool = option(False, "Export the ground truth (relevance 1 per interaction) instead.", kind=bool)
    split: Split | None = option(
        None, "With --qrels: the split that is the ground truth (default: test).", choices=Split, show_default=False
    )
    recbole: Path | None = option(
        None, "Write the dataset and its split as RecBole benchmark files into this folder.", kind=Path
    )
    fmt: str | None = option(
        None,
        "trec, ranx, csv, tsv or parquet (qrels: trec or ranx); default from --out's extension.",
        flag="--format",
        kind=str,
    )
    out: Path | None = option(None, "The file to write (never inside the workspace's tables/).", kind=Path)


@dataclass(frozen=True)
class EmbedOptions(Options):
    step: ClassVar[str] = "embed"
    model: str | None = option(
        None,
        "sentence-transformers model: a local folder or a name in the local Hugging Face cache "
        "(default: the packaged all-MiniLM-L6-v2). Never downloaded.",
        kind=str,
        show_default=False,
    )
    batch_size: int = option(64, "Texts per encoder batch.", minimum=1, kind=int)
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)
    template: str | None = option(
        None,
        'Text to embed, rendered from items columns, e.g. "{title}. {genres}" (default: items.text).',
        kind=str,
        show_default=False,
    )
    normalize: bool = option(False, "L2-normalise the vectors (MiniLM already is).", kind=bool)
    precision: str = option(
        Precision.auto,
        "Encoder arithmetic: auto (float16 on CUDA, float32 on the CPU), float16 (CUDA only), float32, or float64 "
        "(rounded to float32: the same bits on every x86 CPU but for a rare last bit; docs/embeddings.md).",
        choices=Precision,
    )


@dataclass(frozen=True)
class TrainOptions(Options):
    """What every model's training step takes besides its hyperparameters (those are the model's)."""

    step: ClassVar[str] = "train"
    k: int = option(100, "Length of the stored top-K lists.", minimum=1, kind=int)
    exclude: Exclude = option(
        Exclude.train_valid, "Splits masked in the top-K lists: train or train+valid.", choices=Exclude
    )
    text_view: str = option(
        "text",
        "View holding the item text vectors (text models: semantic, alpharec, fusion, aligned-*, ease-text).",
        kind=str,
    )
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)
    bag: int = option(
        1,
        f"Models trained, with seeds seed, seed+{BAG_SEED_STEP}, seed+{2 * BAG_SEED_STEP}, ...; the view scores "
        "by their mean score (a seed bag; 1: one model).",
        minimum=1,
        maximum=MAX_BAG,
        kind=int,
    )


@dataclass(frozen=True)
class FuseOptions(Options):
    step: ClassVar[str] = "fuse"
    weight: float | None = option(
        None,
        "score, cca: weight w of the first view in w*A + (1-w)*B (default: tuned on validation Recall@20; 0.5 "
        "when a view has lists only).",
        minimum=0.0,
        maximum=1.0,
        kind=(int, float),
        show_default=False,
    )
    norm: Norm = option(Norm.zscore, "score: per-user standardisation, zscore or minmax.", choices=Norm)
    rrf_k: float = option(60.0, "rrf: the constant k in 1/(k + rank).", minimum=0.0, kind=(int, float))
    fits: int = option(
        1,
        "ranker: models fitted, each choosing its epochs on a different held-out fifth of the validation users; "
        "their scores are averaged (bagging).",
        minimum=1,
        maximum=MAX_FITS,
        kind=int,
    )
    fold_in: bool = option(
        False,
        "ranker: when writing the lists, the history features (similarity to the history, activity, history "
        "popularity, text share) read every masked (--exclude) item of the user, train + valid, as the history, "
        "not train alone: what is known at test time.",
        kind=bool,
    )
    k: int = option(100, "List length per user.", minimum=1, kind=int)
    exclude: Exclude = option(Exclude.train_valid, "Seen items to mask: train or train+valid.", choices=Exclude)
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)


@dataclass(frozen=True)
class ProbeOptions(Options):
    step: ClassVar[str] = "probe"
    mappers: tuple[str, ...] | None = option(
        None,
        "Comma-separated: linear, lowrank:R, mlp1, mlp2, mlp3, mlp:WxW "
        "(default: linear,mlp1,mlp2,mlp3; with --protocol paper: linear,mlp3).",
        flag="--mapper",
        show_default=False,
        validate=_check_mappers,
        parse=_read_mappers,
    )
    shifts: tuple[Shift, ...] | None = option(
        None,
        "Comma-separated: random, popularity, cold (default: random,popularity; with --protocol paper: random).",
        flag="--shift",
        choices=Shift,
        show_default=False,
    )
    protocol: Protocol = option(
        Protocol.ours,
        "ours (MLPs early-stopped on a validation slice) or paper (batch 1024, a fixed 400 epochs, no early stopping).",
        choices=Protocol,
    )
    seeds: int = option(3, "Number of seeds (seed, seed+1, …).", minimum=1, kind=int)
    seed: int = option(0, "First seed.", minimum=0, maximum=SEED_MAX, kind=int)
    cold_n: int = option(
        5,
        "--shift cold tests on items with at most this many train interactions.",
        minimum=0,
        kind=int,
    )
    k: int = option(20, "K of kNN Jaccard@K, inductive Recall@K and Rec Jaccard@K.", minimum=1, kind=int)
    cca_threshold: float = option(
        0.5,
        "Canonical correlations above this count as shared components.",
        minimum=0.0,
        maximum=1.0,
        kind=(int, float),
    )
    max_epochs: int | None = option(
        None,
        "MLP epochs: the cap with --protocol ours (default 200; early stopping usually ends sooner), "
        "the fixed count with paper (default 400).",
        minimum=1,
        kind=int,
        show_default=False,
    )
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)

    def checked(self, where: str = "", bounds: bool = True) -> Self:
        # a comma-separated string (the CLI's form) or a list (the experiment file's)
        split: dict[str, Any] = {
            name: tuple(comma_list(flag_of(f), value))
            for f in dataclasses.fields(self)
            if (name := f.name) in ("mappers", "shifts") and isinstance(value := getattr(self, name), str)
        }
        return super(ProbeOptions, dataclasses.replace(self, **split) if split else self).checked(where, bounds)


@dataclass(frozen=True)
class SplitOptions(Options):
    """The experiment file's [split] table (``complement init``'s split options)."""

    step: ClassVar[str] = "split"
    method: SplitMethod = option(SplitMethod.random, "How interactions are split.", choices=SplitMethod)
    ratios: tuple[float, float, float] = option((0.8, 0.1, 0.1), "Train, valid and test shares.", kind=(list, tuple))
    seed: int = option(2020, "Seed of the random split.", minimum=0, maximum=SEED_MAX, kind=int)
    temporal_cutoffs: tuple[float, float] | None = option(
        None, "temporal: the valid and test cut-off times.", kind=(list, tuple)
    )


@dataclass(frozen=True)
class ImportOptions(Options):
    """A [[view]] with ``from = FILE``: precomputed vectors (``complement embed --from``)."""

    step: ClassVar[str] = "import"
    ids: str | None = option(None, "Ids of the .npy rows.", kind=str)
    user_from: str | None = option(None, "User vectors of the same view (Parquet or .npy).", kind=str)
    user_ids: str | None = option(None, "Ids of the user .npy rows.", kind=str)
    k: int = option(
        100, "With user_from: length of the stored top-K lists (as a trained view's k).", minimum=1, kind=int
    )
    exclude: Exclude = option(
        Exclude.train_valid, "With user_from: splits masked in the top-K lists: train or train+valid.", choices=Exclude
    )
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)


@dataclass(frozen=True)
class DiagnosticsOptions(Options):
    """The experiment file's [diagnostics] table: what ``complement run`` computes into results/."""

    step: ClassVar[str] = "diagnostics"
    names: tuple[str, ...] | None = option(
        None,
        "Diagnostics to run (default: every one but the checks; multi_view is skipped below 3 views with lists).",
        kind=(list, tuple),
    )
    k: tuple[int, ...] = option((20,), "List lengths K.", kind=(list, tuple))
    pairs: tuple[tuple[str, str], ...] = option((), "Pairs of views [A, B] to compare.", kind=(list, tuple))
    neighbors_k: int = option(20, "Neighbours per item for item_agreement.", minimum=1, kind=int)


@dataclass(frozen=True)
class RunOptions(Options):
    """The experiment file's [run] table."""

    step: ClassVar[str] = "run"
    device: str = option(Device.auto, DEVICE_HELP, choices=Device)
    seeds: tuple[int, ...] = option((), "Repeat the stochastic steps for these seeds.", kind=(list, tuple))


#: the options of every step kind (each class declared above), by step name
STEP_OPTIONS: dict[str, type[Options]] = {cls.step: cls for cls in Options.__subclasses__()}
