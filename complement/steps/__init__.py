"""The pipeline's steps: one verb each, one result shape, options declared once.

``from complement import init, ingest, embed, train, topk, fuse, probe, diagnose, report, run, drop, export``:
each takes the workspace first and returns a :class:`StepResult`; the options of a step are the
frozen dataclass in :mod:`complement.steps.options` that the CLI and ``complement run`` derive theirs from.
``topk(ws, view, source=FILE)`` imports another tool's lists; ``export`` writes a view's lists, the qrels or
the RecBole split (bring your own recommender, docs/interop.md)."""

from .options import (
    STEP_OPTIONS,
    DiagnosticsOptions,
    EmbedOptions,
    ExportOptions,
    FuseOptions,
    ImportOptions,
    ListImport,
    Options,
    ProbeOptions,
    RunOptions,
    SplitOptions,
    TopkOptions,
    TrainOptions,
)
from .results import StepResult
from .verbs import diagnose, drop, embed, export, fuse, ingest, init, probe, report, run, topk, train

VERBS = ("init", "ingest", "embed", "train", "topk", "fuse", "probe", "diagnose", "report", "run", "drop", "export")

__all__ = [
    "STEP_OPTIONS",
    "VERBS",
    "DiagnosticsOptions",
    "EmbedOptions",
    "ExportOptions",
    "FuseOptions",
    "ImportOptions",
    "ListImport",
    "Options",
    "ProbeOptions",
    "RunOptions",
    "SplitOptions",
    "StepResult",
    "TopkOptions",
    "TrainOptions",
    "diagnose",
    "drop",
    "embed",
    "export",
    "fuse",
    "ingest",
    "init",
    "probe",
    "report",
    "run",
    "topk",
    "train",
]
