"""Fusion of two views: score, rrf and Norm-Concat-Norm (training-free), gate and ranker (fitted on
the valid split, :mod:`.learned`; the ranker also fuses three or more views), and cca (a shared CCA
subspace plus each view's private part, tuned on the valid split, :mod:`.cca`).

``fuse(ws, "lightgcn,sem", "score", "fused-score")`` writes a new view that every diagnostic
can read; see docs/fusion.md. The trained counterparts (``fusion``, ``aligned-*``) live in
:mod:`complement.embed.models`."""

from .concat import l2_normalise, norm_concat_norm
from .rrf import rrf_scores, rrf_topk
from .run import METHODS, FuseResult, fuse, parse_views
from .score import NORMS, WEIGHT_GRID, combine, score_fusion_topk, standardise, tune_weight

__all__ = [
    "METHODS",
    "NORMS",
    "WEIGHT_GRID",
    "FuseResult",
    "combine",
    "fuse",
    "l2_normalise",
    "norm_concat_norm",
    "parse_views",
    "rrf_scores",
    "rrf_topk",
    "score_fusion_topk",
    "standardise",
    "tune_weight",
]
