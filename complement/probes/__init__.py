"""Alignment probes: can a map of rising capacity turn source-view item vectors into
target-view ones, and does it still work on items it never saw?

Library API: :func:`run_probe` (fit, measure, write ``probes``), :func:`make_mapper` (registry:
``linear``, ``lowrank:R``, ``mlp1``, ``mlp2``, ``mlp3``, ``mlp:WxW``), :func:`split_items` (shifts),
:func:`shared_private` (canonical correlations), :func:`probe_summary`. See docs/probes.md."""

from .base import MAPPER_NAMES, Mapper, make_mapper, parse_mappers
from .metrics import (
    inductive_recall,
    knn_jaccard,
    linear_cka,
    mean_cosine,
    r2_score,
    rec_jaccard,
)
from .run import DEFAULT_MAPPERS, DEFAULT_SHIFTS, PROTOCOLS, get_protocol, load_probe_data, run_probe
from .shared import canonical_correlations, shared_private
from .shifts import SHIFTS, parse_shifts, split_items
from .summary import probe_summary, wide_summary

__all__ = [
    "DEFAULT_MAPPERS",
    "DEFAULT_SHIFTS",
    "MAPPER_NAMES",
    "PROTOCOLS",
    "SHIFTS",
    "Mapper",
    "canonical_correlations",
    "get_protocol",
    "inductive_recall",
    "knn_jaccard",
    "linear_cka",
    "load_probe_data",
    "make_mapper",
    "mean_cosine",
    "parse_mappers",
    "parse_shifts",
    "probe_summary",
    "r2_score",
    "rec_jaccard",
    "run_probe",
    "shared_private",
    "split_items",
    "wide_summary",
]
