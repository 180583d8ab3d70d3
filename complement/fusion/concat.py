"""Norm-Concat-Norm fusion (Wang et al., 2026): no training, only geometry.

``fused(x) = normalise([normalise(x_A), normalise(x_B)])`` for user and item vectors alike, with
``normalise(x) = x / ||x||_2`` (a zero vector stays zero). Both halves have unit norm, so the outer
normalisation divides by sqrt(2) and the fused score is the mean of the two views' cosines:
``fused(u) · fused(i) = (cos_A(u, i) + cos_B(u, i)) / 2`` — each view keeps its private signal and
neither dominates by scale."""

from __future__ import annotations

import numpy as np


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (rows of zeros are left as zeros)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def norm_concat_norm(vectors_a: np.ndarray, vectors_b: np.ndarray) -> np.ndarray:
    """``normalise([normalise(A), normalise(B)])`` row by row, as float32."""
    if len(vectors_a) != len(vectors_b):
        raise ValueError(f"row counts differ: {len(vectors_a)} vs {len(vectors_b)}")
    fused = np.concatenate([l2_normalise(vectors_a), l2_normalise(vectors_b)], axis=1)
    return l2_normalise(fused).astype(np.float32)
