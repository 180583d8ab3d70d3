"""The packed-key descending order equals a stable descending sort, so RRF ranks and fused lists are unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from complement.fusion.kernels import descending_order, full_ranks
from complement.fusion.rrf import rrf_scores


def _reference_order(row: list[float]) -> list[int]:
    """Plain Python: columns by descending score, equal scores (0.0 == -0.0) by lower column."""
    return sorted(range(len(row)), key=lambda c: (-row[c], c))


def _tied_scores(seed: int, rows: int = 7, cols: int = 23) -> np.ndarray:
    """Few distinct values (many ties), signed zeros, infinities, subnormals and large magnitudes."""
    rng = np.random.default_rng(seed)
    palette = np.array([0.0, -0.0, 1.5, -1.5, 2.0, -3.25, 1e-42, -1e-42, 3e38, -3e38, np.inf, -np.inf], np.float32)
    scores = palette[rng.integers(0, len(palette), (rows, cols))]
    free = rng.random((rows, cols)) < 0.4
    scores[free] = rng.normal(size=int(free.sum())).astype(np.float32)
    return scores


@pytest.mark.parametrize("seed", range(12))
def test_descending_order_equals_a_stable_descending_sort(seed):
    scores = _tied_scores(seed)
    got = descending_order(torch.from_numpy(scores)).tolist()
    assert got == [_reference_order(row.tolist()) for row in scores]
    assert got == torch.sort(torch.from_numpy(scores), dim=1, descending=True, stable=True).indices.tolist()


def test_full_ranks_are_positions_in_the_reference_order():
    scores = _tied_scores(99)
    ranks = full_ranks(torch.from_numpy(scores)).numpy()
    for row, rank in zip(scores, ranks, strict=True):
        for position, col in enumerate(_reference_order(row.tolist()), start=1):
            assert rank[col] == position


def test_float64_scores_keep_their_precision():
    scores = torch.tensor([[1.0, 1.0 + 1e-12, 1.0]], dtype=torch.float64)  # equal once rounded to float32
    assert descending_order(scores).tolist() == [[1, 0, 2]]


@pytest.mark.parametrize("seed", range(5))
def test_rrf_scores_equal_the_formula_on_reference_ranks(seed):
    rng = np.random.default_rng(seed)
    a, b = _tied_scores(seed, 5, 17), _tied_scores(seed + 50, 5, 17)
    mask = rng.random((5, 17)) < 0.3
    got = rrf_scores(torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(mask), rrf_k=3.0).numpy()
    for u in range(5):
        ra = _reference_order([float("-inf") if mask[u, i] else float(a[u, i]) for i in range(17)])
        rb = _reference_order([float("-inf") if mask[u, i] else float(b[u, i]) for i in range(17)])
        rank_a, rank_b = {c: p for p, c in enumerate(ra, 1)}, {c: p for p, c in enumerate(rb, 1)}
        for i in range(17):
            expected = float("-inf") if mask[u, i] else 1 / (3.0 + rank_a[i]) + 1 / (3.0 + rank_b[i])
            assert got[u, i] == expected


def test_recall_hits_with_precomputed_sizes_equals_plain_python():
    from complement.fusion.kernels import SeenMask, recall_hits, truth_sizes

    rng = np.random.default_rng(4)
    truth_pairs = (rng.integers(0, 6, 15), rng.integers(0, 12, 15))  # some users without truth
    truth = SeenMask(6, 12, truth_pairs).block(0, 6, torch.device("cpu"))
    top = torch.from_numpy(rng.permutation(np.tile(np.arange(12), (6, 1)).T).T[:, :4].copy())
    sets = [{int(i) for u, i in zip(*truth_pairs, strict=True) if u == user} for user in range(6)]
    expected = sum(len(set(top[u].tolist()) & sets[u]) / len(sets[u]) for u in range(6) if sets[u])
    for got in (recall_hits(top, truth), recall_hits(top, truth, truth_sizes(truth))):
        assert abs(got[0] - expected) < 1e-12 and got[1] == sum(1 for s in sets if s)
