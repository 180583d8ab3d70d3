"""``lowrank:R``: reduced-rank (ridge) regression.

Fit ridge ``W`` (λ chosen as in :mod:`.linear`), then constrain the fitted values to their top-R
principal directions: with ``Ŷ = (X − x̄) W`` and ``V_R`` the top-R right singular vectors of ``Ŷ``,
``W_R = W V_R V_Rᵀ`` (Izenman 1975; Mukherjee & Zhu 2011, "Reduced rank ridge regression").
It is the best rank-R linear map in squared error, so R sweeps capacity from 1 to full ridge."""

from __future__ import annotations

import numpy as np

from .linear import RidgeMapper, gram_eigh, ridge_fit


class ReducedRankMapper(RidgeMapper):
    """Ridge followed by a rank-``rank`` projection of the fitted values."""

    def __init__(self, rank: int):
        super().__init__()
        self.rank = int(rank)
        self.name = f"lowrank:{self.rank}"

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: int = 0) -> ReducedRankMapper:
        self.lambda_ = self.choose_lambda(X, Y, seed)
        ((W, _),) = ridge_fit(X, Y, (self.lambda_,))
        X64 = np.asarray(X, np.float64)
        fitted = (X64 - X64.mean(0)) @ W
        _, V = gram_eigh(fitted)
        V_r = V[:, : min(self.rank, V.shape[1])]
        self.W = W @ V_r @ V_r.T
        self.b = np.asarray(Y, np.float64).mean(0) - X64.mean(0) @ self.W
        return self
