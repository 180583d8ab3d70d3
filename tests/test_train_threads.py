"""A trained view does not depend on torch's CPU thread count: every model, fitted on one thread and on two
from the same data and seed, gives the same vectors to the last bit.

Sums split over threads round differently; the training loops avoid such ops (``index_select`` rather than
advanced indexing in the propagation, see lightgcn.py), and the one thread-dependent step found, the QR
behind the ``semantic`` model's orthogonal start (384-d text vectors), runs on one thread. The text vectors
are 384-d here because that is where the QR differed (MiniLM's width)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from small_train_data import small_train_data

from complement.embed.models import MODELS, create_model
from complement.embed.train import TrainData


@pytest.fixture(scope="module")
def data() -> TrainData:
    return small_train_data()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_model_trains_the_same_on_one_thread_and_on_two(name, data):
    before = torch.get_num_threads()
    vectors = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model = create_model(name, epochs=4, min_epochs=2, eval_every=2, seed=3)
            model.fit(data)
            vectors[threads] = (model.user_embeddings(), model.item_embeddings())
            assert torch.get_num_threads() == threads  # the model restores what it changes
    finally:
        torch.set_num_threads(before)
    for one, two in zip(vectors[1], vectors[2], strict=True):
        assert np.array_equal(one, two), f"{name}: largest difference {np.abs(one - two).max()}"
