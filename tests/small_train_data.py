"""A small random ``TrainData`` (200 users, 300 items, 384-d text vectors) for the tests that train every model
under two conditions and compare the vectors: thread counts (test_train_threads.py) and CPU kernel sets
(test_train_cpu_kernels.py, in child processes). The text vectors are 384-d because that is where the
``semantic`` model's QR differed with the thread count (MiniLM's width)."""

from __future__ import annotations

import numpy as np

from complement.embed.train import TrainData

N_USERS, N_ITEMS, TEXT_DIM = 200, 300, 384


def small_train_data() -> TrainData:
    rng = np.random.default_rng(0)
    keys = np.unique(rng.integers(0, N_USERS, 6000) * N_ITEMS + rng.integers(0, N_ITEMS, 6000))
    users, items = keys // N_ITEMS, keys % N_ITEMS
    part = rng.random(len(keys))
    train, valid, test = part < 0.8, (part >= 0.8) & (part < 0.9), part >= 0.9
    text = rng.standard_normal((N_ITEMS, TEXT_DIM)).astype(np.float32)
    return TrainData(
        N_USERS, N_ITEMS, (users[train], items[train]), (users[valid], items[valid]), (users[test], items[test]), text
    )
