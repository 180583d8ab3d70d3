"""Popularity baseline: score(u, i) = train count of i, for every user.

Stored as 1-d vectors user = [1], item = [ln(1 + count_i)]: the dot product is monotone in the
count, so a top-K from the embeddings reproduces the popularity order (ties by lower item index)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..train import FitResult, TrainData
from .base import Recommender


class Popularity(Recommender):
    name = "pop"
    defaults: ClassVar[dict] = {"dim": 1, "epochs": 0}

    def fit(self, data: TrainData, report=None) -> FitResult:
        self._items = np.log1p(data.item_counts()).astype(np.float32).reshape(-1, 1)
        self._users = np.ones((data.n_users, 1), np.float32)
        return FitResult()
