"""Split invariants: one split per interaction, 8:1:1 within one per user, loo's last is test,
temporal cut-offs, and the same seed giving the same files byte for byte."""

import hashlib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complement import Workspace
from complement.data import splits
from complement.data.pipeline import build_tables
from complement.errors import ConfigError, DataError


def _random_interactions(n_users=60, seed=0):
    rng = np.random.default_rng(seed)
    users, items, ts = [], [], []
    for u in range(n_users):
        n = int(rng.integers(1, 40))
        chosen = rng.choice(200, size=n, replace=False)
        users += [f"u{u}"] * n
        items += [f"i{i}" for i in chosen]
        ts += rng.integers(0, 10_000, size=n).tolist()
    return pa.table({"user_id": users, "item_id": items, "ts": ts})


def _per_user(ws):
    return ws.query(
        """SELECT user_id, count(*) AS n, count(*) FILTER (split = 'train') AS train,
                  count(*) FILTER (split = 'valid') AS valid, count(*) FILTER (split = 'test') AS test
           FROM interactions GROUP BY user_id"""
    ).to_pylist()


def test_random_split_puts_every_interaction_in_one_split_within_one_of_8_1_1(tmp_path):
    ws = Workspace(tmp_path)
    data = _random_interactions()
    build_tables(ws, data, None, split="random", seed=7)
    assert ws.query("SELECT count(*) AS n FROM interactions WHERE split IN ('train','valid','test')").to_pylist() == [
        {"n": data.num_rows}
    ]
    for row in _per_user(ws):
        n = row["n"]
        assert abs(row["train"] - 0.8 * n) <= 1 and abs(row["valid"] - 0.1 * n) <= 1 and abs(row["test"] - 0.1 * n) <= 1
        if n < 5:
            assert row["train"] == n  # too short to split: all train (documented)


def test_random_split_same_seed_same_bytes_other_seed_differs(tmp_path):
    data = _random_interactions()

    def digest(folder, seed):
        ws = Workspace(tmp_path / folder)
        build_tables(ws, data, None, seed=seed)
        return {
            name: hashlib.sha256(ws.table_path(name).read_bytes()).hexdigest()
            for name in ("interactions", "users", "items")
        }

    assert digest("a", 3) == digest("b", 3)
    assert digest("a", 3)["interactions"] != digest("c", 4)["interactions"]


def test_random_split_keeps_repeats_of_a_pair_in_one_split():
    user = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    # rows 0 and 10 are the same pair
    unit = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
    for seed in range(20):
        codes = splits.random_split(user, unit, seed=seed)
        assert codes[0] == codes[10]


def test_loo_puts_each_users_last_interaction_in_test_and_second_to_last_in_valid(tmp_path):
    ws = Workspace(tmp_path)
    build_tables(ws, _random_interactions(), None, split="loo")
    bad = ws.query(
        """WITH ranked AS (
             SELECT user_id, split, row_number() OVER (PARTITION BY user_id ORDER BY ts DESC, item_id DESC) AS from_end,
                    count(*) OVER (PARTITION BY user_id) AS n
             FROM interactions)
           SELECT * FROM ranked
           WHERE (n >= 3 AND from_end = 1 AND split <> 'test') OR (n >= 3 AND from_end = 2 AND split <> 'valid')
              OR (n >= 3 AND from_end > 2 AND split <> 'train') OR (n < 3 AND split <> 'train')"""
    )
    assert bad.num_rows == 0


def test_loo_follows_sequence_order_without_timestamps(tmp_path):
    ws = Workspace(tmp_path)
    data = pa.table({"user_id": ["a"] * 4, "item_id": ["x", "y", "z", "w"], "seq": [3, 0, 1, 2]})
    build_tables(ws, data, None, split="loo")
    got = {r["item_id"]: r["split"] for r in ws.query("SELECT item_id, split FROM interactions").to_pylist()}
    assert got == {"y": "train", "z": "train", "w": "valid", "x": "test"}


def test_temporal_split_cuts_at_global_time_quantiles():
    ts = np.arange(10, dtype=np.int64)  # q0.8 = 7.2, q0.9 = 8.1
    codes = splits.temporal_split(ts, np.ones(10, bool), (0.8, 0.9))
    assert codes.tolist() == [0] * 8 + [1] + [2]


def test_temporal_split_needs_timestamps(tmp_path):
    data = pa.table({"user_id": ["a", "b"], "item_id": ["x", "y"]})
    with pytest.raises(DataError, match="temporal split needs a timestamp"):
        build_tables(Workspace(tmp_path), data, None, split="temporal")


def test_unknown_split_method_lists_the_methods(tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'random'"):
        build_tables(Workspace(tmp_path), _random_interactions(3), None, split="randm")


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 60), min_size=1, max_size=30), seed=st.integers(0, 2**31 - 1))
def test_random_split_counts_are_within_one_of_the_ratios_for_any_user_sizes(sizes, seed):
    user = np.repeat(np.arange(len(sizes)), sizes)
    codes = splits.random_split(user, np.arange(len(user)), (0.8, 0.1, 0.1), seed)
    for u, n in enumerate(sizes):
        counts = np.bincount(codes[user == u], minlength=3)
        assert counts.sum() == n
        assert all(abs(c - r * n) <= 1 for c, r in zip(counts, (0.8, 0.1, 0.1), strict=True))
