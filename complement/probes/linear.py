"""``linear``: closed-form ridge regression with λ chosen on a validation slice of the fit items.

With centred ``X``, ``Y`` and the thin SVD ``X = U diag(s) Vᵀ``, the ridge solution is
``W(λ) = V diag(s / (s² + λ)) Uᵀ Y`` (Hastie, Tibshirani & Friedman, ESL §3.4.1); the intercept
is ``ȳ − x̄ W``. λ runs over a grid scaled by the mean squared singular value, is picked by the
validation R², and the map is refitted on all fit items with that λ."""

from __future__ import annotations

import numpy as np

from .base import Mapper, validation_split
from .metrics import r2_score

LAMBDA_GRID = tuple(10.0**p for p in range(-6, 3))
"""λ / mean(s²): from nearly least squares (1e-6) to heavy shrinkage (1e2)."""


def gram_eigh(Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s², V)`` of centred ``Xc = U diag(s) Vᵀ``, descending, from the eigendecomposition of the
    small ``Xcᵀ Xc`` (d x d): the same answer as an SVD of the tall matrix at a fraction of the cost."""
    evals, V = np.linalg.eigh(Xc.T @ Xc)
    return np.clip(evals[::-1], 0.0, None), V[:, ::-1]


def ridge_fit(X: np.ndarray, Y: np.ndarray, lambdas: tuple[float, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(W, b), …]`` of ridge for each relative λ in ``lambdas``; one eigendecomposition serves every λ:
    ``W(λ) = V diag(1 / (s² + λ)) Vᵀ Xᶜᵀ Yᶜ`` (= the SVD form above)."""
    X = np.asarray(X, np.float64)
    Y = np.asarray(Y, np.float64)
    x_mean, y_mean = X.mean(0), Y.mean(0)
    Xc = X - x_mean
    s2, V = gram_eigh(Xc)
    VtXtY = V.T @ (Xc.T @ (Y - y_mean))
    scale = float(np.mean(s2[: max(1, min(Xc.shape))])) or 1.0
    out = []
    for lam in lambdas:
        W = V @ (VtXtY / (s2 + lam * scale)[:, None])
        out.append((W, y_mean - x_mean @ W))
    return out


class RidgeMapper(Mapper):
    """Ridge regression; ``lambda_`` holds the chosen relative λ after ``fit``."""

    name = "linear"

    def __init__(self, lambdas: tuple[float, ...] = LAMBDA_GRID):
        self.lambdas = tuple(lambdas)
        self.lambda_: float | None = None
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None

    def choose_lambda(self, X: np.ndarray, Y: np.ndarray, seed: int) -> float:
        """The grid λ with the best validation R² on a seeded slice of the fit items."""
        if len(self.lambdas) == 1 or len(X) < 4:
            return self.lambdas[0] if len(self.lambdas) == 1 else 1.0
        train, valid = validation_split(len(X), seed)
        scores = [r2_score(X[valid] @ W + b, Y[valid]) for W, b in ridge_fit(X[train], Y[train], self.lambdas)]
        return self.lambdas[int(np.nanargmax(scores))]

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: int = 0) -> RidgeMapper:
        self.lambda_ = self.choose_lambda(X, Y, seed)
        ((self.W, self.b),) = ridge_fit(X, Y, (self.lambda_,))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.W is None or self.b is None:
            raise RuntimeError("RidgeMapper.predict before fit")
        return (np.asarray(X, np.float64) @ self.W + self.b).astype(np.float32)

    def details(self) -> dict[str, float]:
        return {"ridge_lambda": float(self.lambda_)} if self.lambda_ is not None else {}
