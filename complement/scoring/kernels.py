"""The array kernels in one import place (other packages import from here; keep these names stable).

``topk_indices`` / ``neighbors_indices`` / ``seen_csr`` / ``default_chunk_size`` live in
:mod:`.search`; the per-block exact kernels ``exact_topk_block`` / ``grouped_topk_block`` in :mod:`.blocks`.
"""

from .blocks import GROUP_ROWS, TIE_MARGIN, exact_topk_block, grouped_topk_block, use_groups
from .search import DEFAULT_CHUNK_BYTES, check_k, default_chunk_size, neighbors_indices, seen_csr, topk_indices

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "GROUP_ROWS",
    "TIE_MARGIN",
    "check_k",
    "default_chunk_size",
    "exact_topk_block",
    "grouped_topk_block",
    "neighbors_indices",
    "seen_csr",
    "topk_indices",
    "use_groups",
]
