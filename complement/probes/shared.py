"""Shared vs private: how much of the target (collaborative) view the source (semantic) view shares.

Canonical correlations (Hotelling, 1936) between the two views' item vectors: each view is centred
and reduced by PCA to a common dimension ``d = min(d_source, d_target, n − 1, max_dim)``; with the
thin SVD ``Xᶜ = U diag(s) Vᵀ`` (computed from the eigendecomposition of ``Xᶜᵀ Xᶜ``) the regularised whitened scores
are ``Z = U_d diag(s / √(s² + λ))``,
``λ = reg · mean(s_d²)``, and the canonical correlations are the singular values of ``Z_xᵀ Z_y``
(with ``reg = 0`` these are the cosines of the principal angles between the two column spaces).
The regulariser shrinks directions of near-zero variance so they cannot fake a correlation.

The number of correlations above ``threshold`` estimates the shared dimension. For reference the
largest correlation between *unrelated* views of ``n`` items is about ``(√d + √d) / √n``; the
same statistic on a row-permuted target is reported as ``canonical_corr_null_max``. The share of
target variance a linear map explains is the ridge R² (λ chosen on a validation slice) in sample
on all items and on a held-out 20% of the items."""

from __future__ import annotations

import numpy as np

from .linear import RidgeMapper, gram_eigh
from .metrics import r2_score
from .shifts import split_items

DEFAULT_THRESHOLD = 0.5
DEFAULT_MAX_DIM = 64
DEFAULT_REG = 1e-3


def _whitened_scores(X: np.ndarray, d: int, reg: float) -> np.ndarray:
    """``U_d diag(s / √(s² + λ))`` computed as ``Xᶜ V_d diag(1 / √(s² + λ))`` (no tall SVD needed)."""
    X = np.asarray(X, np.float64)
    Xc = X - X.mean(0)
    s2, V = gram_eigh(Xc)
    s2, V = s2[:d], V[:, :d]
    lam = reg * float(np.mean(s2)) if s2.size else 0.0
    return (Xc @ V) / np.sqrt(s2 + lam + 1e-300)


def canonical_correlations(
    X: np.ndarray, Y: np.ndarray, max_dim: int = DEFAULT_MAX_DIM, reg: float = DEFAULT_REG
) -> np.ndarray:
    """Canonical correlations of ``X`` (n x p) and ``Y`` (n x q), descending, ``d`` of them."""
    n = len(X)
    d = int(min(X.shape[1], Y.shape[1], n - 1, max_dim))
    if d < 1:
        return np.zeros(0)
    Zx, Zy = _whitened_scores(X, d, reg), _whitened_scores(Y, d, reg)
    return np.clip(np.linalg.svd(Zx.T @ Zy, compute_uv=False), 0.0, 1.0)


def shared_private(
    X: np.ndarray,
    Y: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
    max_dim: int = DEFAULT_MAX_DIM,
    reg: float = DEFAULT_REG,
) -> dict[str, float]:
    """The shared-vs-private summary of source ``X`` and target ``Y`` item vectors (rows aligned):
    ``n_shared_components`` (canonical correlations > threshold), ``canonical_dim``,
    ``canonical_corr_max`` / ``_mean``, ``canonical_corr_null_max`` (rows of Y permuted),
    ``linear_r2_all_items`` (in-sample ridge R²) and ``linear_r2_held_out`` (random 80/20)."""
    rho = canonical_correlations(X, Y, max_dim, reg)
    permuted = np.random.default_rng(seed).permutation(len(Y))
    rho_null = canonical_correlations(X, np.asarray(Y)[permuted], max_dim, reg)
    ridge_all = RidgeMapper().fit(X, Y, seed)
    fit, held = split_items("random", len(X), seed)
    ridge_split = RidgeMapper().fit(X[fit], Y[fit], seed)
    return {
        "n_shared_components": float(np.sum(rho > threshold)),
        "canonical_dim": float(len(rho)),
        "canonical_corr_max": float(rho.max(initial=0.0)),
        "canonical_corr_mean": float(rho.mean()) if rho.size else float("nan"),
        "canonical_corr_null_max": float(rho_null.max(initial=0.0)),
        "linear_r2_all_items": r2_score(ridge_all.predict(X), Y),
        "linear_r2_held_out": r2_score(ridge_split.predict(X[held]), Y[held]),
    }
