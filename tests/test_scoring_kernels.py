"""topk_indices / neighbors_indices against brute force numpy, with planted ties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from complement.errors import DataError, DeviceError
from complement.scoring import neighbors_indices, seen_csr, topk_indices


def brute_topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of every row by (-score, column index), first k columns."""
    columns = np.arange(scores.shape[1])
    order = np.stack([np.lexsort((columns, -row))[:k] for row in scores])
    return order, np.take_along_axis(scores, order, axis=1)


def tied_vectors(rng, n: int, d: int) -> np.ndarray:
    """Small-integer vectors: dot products are exact in float32 and full of ties."""
    return rng.integers(-2, 3, size=(n, d)).astype(np.float32)


def random_seen(rng, n_users: int, n_items: int, per_user_max: int):
    users, items = [], []
    for u in range(n_users):
        picked = rng.choice(n_items, size=rng.integers(0, per_user_max + 1), replace=False)
        users += [u] * len(picked)
        items += list(picked)
    return np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_topk_equals_brute_force_with_planted_ties_and_masking(seed):
    rng = np.random.default_rng(seed)
    users, items = tied_vectors(rng, 60, 3), tied_vectors(rng, 80, 3)
    seen = random_seen(rng, 60, 80, 20)
    scores = users @ items.T
    scores[seen] = -np.inf
    expected_idx, expected_scores = brute_topk(scores, 25)
    idx, got_scores = topk_indices(users, items, 25, seen=seen)
    assert idx.dtype == np.int64 and got_scores.dtype == np.float32
    np.testing.assert_array_equal(idx, expected_idx)
    np.testing.assert_array_equal(got_scores, expected_scores)
    assert not np.isin(idx[seen[0], :], -1).any()
    for u, i in zip(*seen, strict=True):
        assert i not in idx[u]


def test_topk_ties_spilling_past_candidates_are_exact():
    # every item scores the same: the whole row is one tie, so the answer is items 0..k-1
    users = np.ones((5, 2), dtype=np.float32)
    items = np.ones((300, 2), dtype=np.float32)
    idx, scores = topk_indices(users, items, 40, seen=(np.array([1, 1]), np.array([0, 5])))
    np.testing.assert_array_equal(idx[0], np.arange(40))
    np.testing.assert_array_equal(idx[1], [i for i in range(42) if i not in (0, 5)])
    assert (scores == 2.0).all()


@pytest.mark.parametrize("chunk_size", [1, 7, None, 1000])
def test_topk_chunk_size_does_not_change_the_output(chunk_size):
    rng = np.random.default_rng(5)
    users, items = tied_vectors(rng, 50, 4), tied_vectors(rng, 40, 4)
    seen = random_seen(rng, 50, 40, 10)
    reference = topk_indices(users, items, 12, seen=seen, chunk_size=50)
    got = topk_indices(users, items, 12, seen=seen, chunk_size=chunk_size)
    np.testing.assert_array_equal(got[0], reference[0])
    np.testing.assert_array_equal(got[1], reference[1])


def test_topk_accepts_torch_tensors_and_float64():
    rng = np.random.default_rng(3)
    users, items = rng.normal(size=(20, 8)), rng.normal(size=(30, 8))
    from_numpy = topk_indices(users, items, 5)
    from_torch = topk_indices(torch.from_numpy(users), torch.from_numpy(items), 5)
    np.testing.assert_array_equal(from_numpy[0], from_torch[0])
    exact = (users @ items.T).argsort(axis=1)[:, ::-1][:, :5]
    np.testing.assert_array_equal(from_numpy[0], exact)


def test_topk_user_with_too_few_unseen_items_raises_or_pads():
    users = np.ones((2, 2), dtype=np.float32)
    items = np.arange(8, dtype=np.float32).reshape(4, 2)
    seen = (np.array([0, 0, 0]), np.array([0, 1, 2]))
    with pytest.raises(DataError, match="fewer than k=2 unmasked items"):
        topk_indices(users, items, 2, seen=seen)
    idx, scores = topk_indices(users, items, 2, seen=seen, pad=True)
    np.testing.assert_array_equal(idx, [[3, -1], [3, 2]])
    assert np.isneginf(scores[0, 1])


@pytest.mark.parametrize(
    ("users", "items", "k", "message"),
    [
        (np.ones((2, 3)), np.ones((4, 3)), 5, "k=5 is larger than the catalogue"),
        (np.ones((2, 3)), np.ones((4, 3)), 0, "positive integer"),
        (np.ones((2, 3)), np.ones((4, 2)), 2, "3 dimensions but item vectors have 2"),
        (np.array([[np.nan, 1.0]]), np.ones((4, 2)), 2, "NaN or infinite"),
        (np.ones((1, 2)), np.array([[np.inf, 1.0]] * 3), 2, "NaN or infinite"),
    ],
)
def test_topk_bad_input_raises_one_line_data_error(users, items, k, message):
    with pytest.raises(DataError, match=message) as info:
        topk_indices(users, items, k)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_topk_cuda_without_cuda_raises_device_error():
    with pytest.raises(DeviceError, match="no CUDA device"):
        topk_indices(np.ones((2, 2)), np.ones((3, 2)), 1, device="cuda")


def test_seen_csr_groups_items_by_user():
    indptr, items = seen_csr([2, 0, 2], [5, 1, 3], n_users=3, n_items=6)
    np.testing.assert_array_equal(indptr, [0, 1, 1, 3])
    np.testing.assert_array_equal(items, [1, 3, 5])


def brute_neighbors(vectors: np.ndarray, k: int):
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return brute_topk(sims, k)


@pytest.mark.parametrize("chunk_size", [1, 7, None])
def test_neighbors_equal_brute_force_cosine_with_ties(chunk_size):
    # +-1 vectors scaled by powers of two: unit vectors are exact, cosines are exact multiples of 1/16
    rng = np.random.default_rng(11)
    signs = rng.choice([-1.0, 1.0], size=(70, 16)).astype(np.float32)
    signs[10] = signs[3]  # a duplicate direction: similarity 1, not excluded
    vectors = signs * rng.choice([0.5, 1.0, 2.0, 4.0], size=(70, 1)).astype(np.float32)
    expected_idx, expected_sims = brute_neighbors(vectors, 9)
    idx, sims = neighbors_indices(vectors, 9, chunk_size=chunk_size)
    np.testing.assert_array_equal(idx, expected_idx)
    np.testing.assert_array_equal(sims, expected_sims)
    assert not (idx == np.arange(70)[:, None]).any()
    assert idx[3, 0] == 10 and sims[3, 0] == 1.0


def test_neighbors_match_float64_similarities_on_random_vectors():
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(120, 24))
    expected_idx, expected_sims = brute_neighbors(vectors, 10)
    idx, sims = neighbors_indices(vectors, 10)
    np.testing.assert_allclose(sims, expected_sims, atol=1e-5)
    assert (idx == expected_idx).mean() > 0.99


def test_neighbors_k_must_leave_out_the_item_itself():
    with pytest.raises(DataError, match="k=4 is larger than the number of other items"):
        neighbors_indices(np.eye(4), 4)


@pytest.mark.parametrize("kind", ["integer_ties", "gaussian"])
def test_topk_grouped_search_on_a_large_catalogue_equals_brute_force(kind):
    # 1,100 items and k=6 take the grouped path (catalogue >= 16 * 4 * (k + 8)); integer vectors
    # make ties at the threshold common, so rows fall back to the full scan as well
    from complement.scoring.blocks import use_groups

    rng = np.random.default_rng(21)
    n_users, n_items, k = 40, 1100, 6
    assert use_groups(n_items, k)
    if kind == "integer_ties":
        users, items = tied_vectors(rng, n_users, 3), tied_vectors(rng, n_items, 3)
    else:
        # multiples of 1/64 times small integers: float32 sums are exact, so numpy and torch agree
        users = rng.normal(size=(n_users, 8)).round().astype(np.float32)
        items = (np.round(rng.normal(size=(n_items, 8)) * 64) / 64).astype(np.float32)
    seen = random_seen(rng, n_users, n_items, 300)
    scores = users @ items.T
    scores[seen] = -np.inf
    expected_idx, expected_scores = brute_topk(scores, k)
    for chunk_size in (1, 9, None):
        idx, got = topk_indices(users, items, k, seen=seen, chunk_size=chunk_size)
        np.testing.assert_array_equal(idx, expected_idx)
        np.testing.assert_array_equal(got, expected_scores)


def test_grouped_block_equals_plain_block_on_random_scores():
    from complement.scoring.blocks import GROUP_ROWS, exact_topk_block, grouped_topk_block

    gen = torch.Generator().manual_seed(0)
    n_items = 2000
    scores = torch.full((30, GROUP_ROWS * 125), float("-inf"))
    scores[:, :n_items] = torch.randint(-40, 40, (30, n_items), generator=gen).float()
    plain = exact_topk_block(scores[:, :n_items].clone(), 10)
    grouped = grouped_topk_block(scores, 10, n_items, GROUP_ROWS)
    torch.testing.assert_close(grouped[0], plain[0])
    torch.testing.assert_close(grouped[1], plain[1])


def test_neighbors_grouped_search_equals_brute_force():
    rng = np.random.default_rng(8)
    signs = rng.choice([-1.0, 1.0], size=(1000, 16)).astype(np.float32)
    vectors = signs * rng.choice([0.5, 2.0], size=(1000, 1)).astype(np.float32)
    expected_idx, expected_sims = brute_neighbors(vectors, 5)
    idx, sims = neighbors_indices(vectors, 5, chunk_size=128)
    np.testing.assert_array_equal(idx, expected_idx)
    np.testing.assert_array_equal(sims, expected_sims)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exact_topk_block_orders_ties_by_column_for_float32_and_float64(dtype):
    from complement.scoring.kernels import exact_topk_block

    scores = torch.tensor([[1.0, 3.0, 3.0, -0.0, 0.0, 3.0], [float("-inf"), 2.0, 2.0, 2.0, 2.0, 2.0]], dtype=dtype)
    values, indices = exact_topk_block(scores, 4)
    assert indices.tolist() == [[1, 2, 5, 0], [1, 2, 3, 4]]
    assert values.dtype == dtype and values[0].tolist() == [3.0, 3.0, 3.0, 1.0]
    # -0.0 and 0.0 tie, as floats do: the lower column comes first
    assert exact_topk_block(scores[:1], 6)[1].tolist() == [[1, 2, 5, 0, 3, 4]]


def test_threaded_cpu_search_restores_the_torch_thread_count():
    before = torch.get_num_threads()
    rng = np.random.default_rng(2)
    topk_indices(tied_vectors(rng, 30, 3), tied_vectors(rng, 20, 3), 4, chunk_size=4)
    assert torch.get_num_threads() == before


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_results_equal_cpu_results():
    rng = np.random.default_rng(6)
    users, items = tied_vectors(rng, 300, 8), tied_vectors(rng, 9000, 8)
    seen = random_seen(rng, 300, 9000, 50)
    cpu = topk_indices(users, items, 100, seen=seen, device="cpu")
    cuda = topk_indices(users, items, 100, seen=seen, device="cuda")
    np.testing.assert_array_equal(cpu[0], cuda[0])
    np.testing.assert_array_equal(cpu[1], cuda[1])
    np.testing.assert_array_equal(
        neighbors_indices(items[:2000], 20, device="cpu")[0], neighbors_indices(items[:2000], 20, device="cuda")[0]
    )


@st.composite
def score_blocks(draw):
    """A float32 block full of ties (small integers) and some -inf, padded with -inf columns."""
    from complement.scoring.blocks import TIE_MARGIN

    k = draw(st.integers(1, 6))
    group_rows = draw(st.sampled_from([1, 2, 4, 8]))
    n_groups = draw(st.integers(k + TIE_MARGIN, k + TIE_MARGIN + 40))
    n_cols = group_rows * n_groups
    n_valid = draw(st.integers(max(k, n_cols - group_rows + 1), n_cols))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scores = rng.integers(-3, 4, size=(draw(st.integers(1, 6)), n_cols)).astype(np.float32)
    scores[rng.random(scores.shape) < draw(st.floats(0, 0.9))] = -np.inf
    scores[:, n_valid:] = -np.inf
    return scores, k, n_valid, group_rows


def stable_reference(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain numpy: a stable argsort of -score (ties keep column order), first k columns."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


@settings(max_examples=200, deadline=None)
@given(score_blocks())
def test_numpy_block_kernels_equal_a_stable_argsort_and_the_torch_kernels(block):
    from complement.scoring.blocks import (
        exact_topk_block,
        exact_topk_block_np,
        grouped_topk_block,
        grouped_topk_block_np,
    )

    scores, k, n_valid, group_rows = block
    expected_idx, expected_values = stable_reference(scores[:, :n_valid], k)
    plain = exact_topk_block_np(scores[:, :n_valid].copy(), k)
    np.testing.assert_array_equal(plain[0], expected_values)
    np.testing.assert_array_equal(plain[1], expected_idx)
    torch_plain = exact_topk_block(torch.from_numpy(scores[:, :n_valid].copy()), k)
    np.testing.assert_array_equal(torch_plain[1].numpy(), expected_idx)
    if group_rows > 1:
        grouped = grouped_topk_block_np(scores, k, n_valid, group_rows)
        np.testing.assert_array_equal(grouped[0], expected_values)
        np.testing.assert_array_equal(grouped[1], expected_idx)
        torch_grouped = grouped_topk_block(torch.from_numpy(scores.copy()), k, n_valid, group_rows)
        np.testing.assert_array_equal(torch_grouped[1].numpy(), grouped[1])


def test_numpy_grouped_kernel_reuses_scratch_across_blocks_of_different_sizes():
    from complement.scoring.blocks import Scratch, grouped_topk_block_np

    rng = np.random.default_rng(9)
    scratch = Scratch()
    for n_rows in (7, 3, 7):
        scores = rng.integers(-5, 6, size=(n_rows, 8 * 40)).astype(np.float32)
        got = grouped_topk_block_np(scores, 5, scores.shape[1], 8, scratch)
        expected_idx, expected_values = stable_reference(scores, 5)
        np.testing.assert_array_equal(got[1], expected_idx)
        np.testing.assert_array_equal(got[0], expected_values)
