"""Exact top-K lists and item neighbours for a view.

Array kernels (no workspace): :func:`topk_indices`, :func:`neighbors_indices`.
Workspace steps (read ``embeddings``, write ``topk`` / ``neighbors`` and a ``runs`` row):
:func:`write_topk`, :func:`write_neighbors`. See docs/scoring.md.
"""

from .search import DEFAULT_CHUNK_BYTES, default_chunk_size, neighbors_indices, seen_csr, topk_indices
from .steps import DEFAULT_EXCLUDE, EXCLUDE_SPLITS, exclude_splits, ranked_table, write_neighbors, write_topk

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_EXCLUDE",
    "EXCLUDE_SPLITS",
    "default_chunk_size",
    "exclude_splits",
    "neighbors_indices",
    "ranked_table",
    "seen_csr",
    "topk_indices",
    "write_neighbors",
    "write_topk",
]
