"""The normalised user-item graph of LightGCN and its propagation.

LightGCN (He et al., SIGIR 2020) propagates over the symmetric-normalised bipartite adjacency
``Â = D^{-1/2} A D^{-1/2}`` with ``A = [[0, R], [Rᵀ, 0]]``. Because the graph is bipartite we never
build the (n_users + n_items)² matrix: one layer is

    e_u ← R̂ e_i,   e_i ← R̂ᵀ e_u,   with R̂[u, i] = 1 / sqrt(deg(u) · deg(i)),

and the final embedding is the mean of layers 0..L (``e = Σ_l e^(l) / (L + 1)``). Both ``R̂`` and
``R̂ᵀ`` are kept as CSR matrices so the forward and the backward pass are each one row-parallel
sparse × dense product (on the CPU, CSR @ dense measured ~6x faster than ``torch.sparse.mm`` on COO
for the Games graph: 2.2 ms vs 15 ms per 64-d product).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class BipartiteGraph:
    """``R̂`` (users × items) and ``R̂ᵀ`` (items × users), both CSR (float32 unless built otherwise), on
    one device."""

    n_users: int
    n_items: int
    user_item: torch.Tensor
    item_user: torch.Tensor

    @classmethod
    def from_pairs(
        cls,
        n_users: int,
        n_items: int,
        user_idx: np.ndarray,
        item_idx: np.ndarray,
        device="cpu",
        dtype: torch.dtype = torch.float32,
    ) -> BipartiteGraph:
        """Build ``R̂`` from (user_idx, item_idx) pairs; duplicate pairs count once. ``dtype`` is the
        embeddings' (float32, or float64 for a model trained in float64)."""
        keys = np.unique(np.asarray(user_idx, np.int64) * n_items + np.asarray(item_idx, np.int64))
        users, items = keys // n_items, keys % n_items
        user_degree = np.bincount(users, minlength=n_users).astype(np.float64)
        item_degree = np.bincount(items, minlength=n_items).astype(np.float64)
        weights = torch.from_numpy(1.0 / np.sqrt(user_degree[users] * item_degree[items])).to(dtype)
        return cls(
            n_users,
            n_items,
            _sparse(users, items, weights, (n_users, n_items), device),
            _sparse(items, users, weights, (n_items, n_users), device),
        )

    def propagate(
        self, user_emb: torch.Tensor, item_emb: torch.Tensor, layers: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean of layers 0..``layers`` of LightGCN propagation (differentiable)."""
        user_sum, item_sum = user_emb, item_emb
        user_layer, item_layer = user_emb, item_emb
        for _ in range(layers):
            user_layer, item_layer = (
                sparse_matmul(self.user_item, self.item_user, item_layer),
                sparse_matmul(self.item_user, self.user_item, user_layer),
            )
            user_sum = user_sum + user_layer
            item_sum = item_sum + item_layer
        return user_sum / (layers + 1), item_sum / (layers + 1)


def _sparse(rows: np.ndarray, cols: np.ndarray, values: torch.Tensor, shape: tuple[int, int], device) -> torch.Tensor:
    indices = torch.from_numpy(np.stack([rows, cols]).astype(np.int64))
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the products used here are stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_coo_tensor(indices, values, size=shape).coalesce().to_sparse_csr().to(device)


class _SparseMatmul(torch.autograd.Function):
    """``y = M x`` for a constant sparse ``M``; the backward pass uses the precomputed ``Mᵀ``."""

    @staticmethod
    def forward(ctx, matrix, matrix_t, dense):
        ctx.matrix_t = matrix_t
        return matrix @ dense

    @staticmethod
    def backward(ctx, grad):
        return None, None, ctx.matrix_t @ grad


def sparse_matmul(matrix: torch.Tensor, matrix_t: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    """Differentiable ``matrix @ dense`` with ``matrix`` constant and ``matrix_t`` its transpose."""
    if not dense.requires_grad:
        return matrix @ dense
    return _SparseMatmul.apply(matrix, matrix_t, dense)
