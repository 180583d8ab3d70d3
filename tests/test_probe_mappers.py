"""Mappers, shifts and the shared-vs-private estimate on planted synthetic views:
X = [S, Ps] @ A (semantic), Y = [S, Pc] @ B (collaborative), S shared, Ps / Pc private."""

import itertools

import numpy as np
import pytest

from complement.errors import ConfigError, DataError
from complement.probes import (
    canonical_correlations,
    make_mapper,
    parse_mappers,
    shared_private,
    split_items,
)
from complement.probes.metrics import r2_score


def planted_views(n=600, shared=6, sem_private=4, collab_private=0, d_sem=32, d_collab=16, noise=0.01, seed=0):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, shared))
    Ps = rng.normal(size=(n, sem_private))
    Pc = rng.normal(size=(n, collab_private))
    X = np.hstack([S, Ps]) @ rng.normal(size=(shared + sem_private, d_sem))
    Y = np.hstack([S, Pc]) @ rng.normal(size=(shared + collab_private, d_collab))
    X += noise * rng.normal(size=X.shape)
    Y += noise * rng.normal(size=Y.shape)
    return X.astype(np.float32), Y.astype(np.float32)


def held_out_r2(mapper_name, X, Y, seed=0):
    fit, held = split_items("random", len(X), seed)
    mapper = make_mapper(mapper_name, device="cpu").fit(X[fit], Y[fit], seed=seed)
    return r2_score(mapper.predict(X[held]), Y[held]), r2_score(mapper.predict(X[fit]), Y[fit]), mapper


def test_linear_recovers_target_without_private_factors():
    X, Y = planted_views(collab_private=0)
    r2, _, mapper = held_out_r2("linear", X, Y)
    assert r2 > 0.9
    assert mapper.epochs_run is None and "ridge_lambda" in mapper.details()


def test_held_out_r2_falls_as_collaborative_private_dimension_grows():
    scores = [held_out_r2("linear", *planted_views(collab_private=p))[0] for p in (0, 3, 8, 16)]
    assert all(a > b for a, b in itertools.pairwise(scores)), scores


@pytest.mark.parametrize("shared", [2, 5, 8])
def test_canonical_correlation_count_recovers_planted_shared_dimension(shared):
    X, Y = planted_views(n=1500, shared=shared, sem_private=4, collab_private=6, noise=0.05)
    result = shared_private(X, Y, threshold=0.5)
    assert abs(result["n_shared_components"] - shared) <= 1
    assert result["canonical_corr_null_max"] < 0.5


def test_canonical_correlations_are_sorted_and_bounded():
    X, Y = planted_views(n=300)
    rho = canonical_correlations(X, Y)
    assert np.all(np.diff(rho) <= 1e-12) and rho.min() >= 0.0 and rho.max() <= 1.0


def test_lowrank_with_full_rank_matches_linear_and_rank_one_is_worse():
    X, Y = planted_views(collab_private=0)
    full = held_out_r2("lowrank:16", X, Y)[0]
    assert full == pytest.approx(held_out_r2("linear", X, Y)[0], abs=1e-6)
    assert held_out_r2("lowrank:1", X, Y)[0] < full


def test_large_mlp_on_few_items_reports_fit_and_held_out_r2():
    X, Y = planted_views(n=60, collab_private=8, noise=0.3)
    held, fit, mapper = held_out_r2("mlp:64x64", X, Y)
    assert np.isfinite(held) and np.isfinite(fit)
    assert fit > held  # the gap is reported; its size is not asserted
    assert 1 <= mapper.epochs_run <= mapper.epochs_trained


def test_mlp_is_reproducible_for_a_seed():
    X, Y = planted_views(n=80)
    a = make_mapper("mlp:16", device="cpu", max_epochs=5).fit(X, Y, seed=3).predict(X)
    b = make_mapper("mlp:16", device="cpu", max_epochs=5).fit(X, Y, seed=3).predict(X)
    np.testing.assert_array_equal(a, b)


def test_mlp_whose_validation_loss_is_never_finite_is_a_one_line_data_error():
    X, Y = planted_views(n=60, d_sem=6, d_collab=3)
    Y[0, 0] = np.nan  # the target scaling spreads it to every row, so every loss is NaN
    with pytest.raises(DataError, match="mapper mlp:8: the validation loss was never finite"):
        make_mapper("mlp:8", device="cpu", max_epochs=3).fit(X, Y, seed=0)


def test_mapper_registry_parses_presets_and_custom_widths():
    assert make_mapper("mlp2").widths == (2048, 2048)
    assert make_mapper("mlp:512x256").widths == (512, 256)
    assert make_mapper("lowrank:4").rank == 4
    assert parse_mappers("linear, MLP1 ") == ["linear", "mlp1"]


def test_a_mapper_named_twice_is_refused():
    # it would be fitted twice and its rows written twice under one name; it was dropped silently before
    with pytest.raises(ConfigError, match=r"mapper 'linear' is named twice \(linear, mlp1, linear\)"):
        parse_mappers("linear, mlp1,linear")


def test_unknown_mapper_is_a_one_line_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown mapper 'mlp4' — did you mean"):
        parse_mappers("linear,mlp4")


def test_shifts_split_items_as_documented():
    pop = np.array(["hot", "mid", "cold", "cold", "mid", "cold", "hot", "cold"], dtype=object)
    counts = np.array([9, 5, 1, 0, 4, 2, 8, 3])
    fit, held = split_items("popularity", 8, pop_group=pop)
    assert held.tolist() == [2, 3, 5, 7] and fit.tolist() == [0, 1, 4, 6]
    fit, held = split_items("cold", 8, n_train=counts, cold_n=3)
    assert held.tolist() == [2, 3, 5, 7]
    fit, held = split_items("random", 100, seed=1)
    assert len(held) == 20 and len(np.intersect1d(fit, held)) == 0 and len(fit) + len(held) == 100
    assert not np.array_equal(held, split_items("random", 100, seed=2)[1])


def test_empty_shift_is_a_data_error():
    with pytest.raises(DataError, match="leaves 0 held-out items"):
        split_items("cold", 5, n_train=np.full(5, 10), cold_n=2)


@pytest.mark.parametrize("name", ["linear", "lowrank:2", "mlp1", "mlp2", "mlp3", "mlp:8x4"])
def test_every_mapper_fits_and_predicts_target_shape(name):
    X, Y = planted_views(n=24, d_sem=12, d_collab=5)
    mapper = make_mapper(name, device="cpu", max_epochs=2).fit(X[:20], Y[:20], seed=0)
    pred = mapper.predict(X[20:])
    assert pred.shape == (4, 5) and pred.dtype == np.float32 and np.isfinite(pred).all()


def test_mlp_without_early_stopping_trains_exactly_the_fixed_epochs_with_the_given_batch():
    X, Y = planted_views(n=60, d_sem=6, d_collab=3)
    fixed = make_mapper("mlp:8", device="cpu", max_epochs=7, batch_size=1024, early_stopping=False).fit(X, Y, seed=0)
    assert fixed.details() == {"best_epoch": 7.0, "epochs_trained": 7.0}
    assert fixed.batch_size == 1024
    stopped = make_mapper("mlp:8", device="cpu", max_epochs=7).fit(X, Y, seed=0)
    assert stopped.batch_size == 256 and stopped.early_stopping
