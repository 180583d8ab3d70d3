"""Property test: topk_indices equals a stable brute-force sort for any small tied input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from complement.scoring import topk_indices


@st.composite
def scoring_problems(draw):
    n_users = draw(st.integers(1, 12))
    n_items = draw(st.integers(1, 40))
    dim = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    users = rng.integers(-2, 3, size=(n_users, dim)).astype(np.float32)
    items = rng.integers(-2, 3, size=(n_items, dim)).astype(np.float32)
    seen_mask = rng.random((n_users, n_items)) < draw(st.floats(0, 0.5))
    k = draw(st.integers(1, n_items))
    chunk_size = draw(st.one_of(st.none(), st.integers(1, n_users + 2)))
    return users, items, np.nonzero(seen_mask), k, chunk_size


@settings(max_examples=150, deadline=None)
@given(scoring_problems())
def test_topk_matches_stable_brute_force_sort(problem):
    users, items, seen, k, chunk_size = problem
    scores = users @ items.T
    scores[seen] = -np.inf
    idx, got = topk_indices(users, items, k, seen=seen, chunk_size=chunk_size, pad=True)
    for row in range(len(users)):
        order = np.lexsort((np.arange(items.shape[0]), -scores[row]))[:k]
        expected = np.where(np.isfinite(scores[row, order]), order, -1)
        np.testing.assert_array_equal(idx[row], expected)
        np.testing.assert_array_equal(got[row], scores[row, order])
