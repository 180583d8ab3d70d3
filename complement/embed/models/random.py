"""Random baseline: seeded standard-normal user and item vectors (``dim`` wide) — the floor."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..train import FitResult, TrainData
from .base import Recommender


class RandomVectors(Recommender):
    name = "random"
    defaults: ClassVar[dict] = {"dim": 64, "epochs": 0}

    def fit(self, data: TrainData, report=None) -> FitResult:
        rng = np.random.default_rng(self.config.seed)
        self._users = rng.standard_normal((data.n_users, self.config.dim)).astype(np.float32)
        self._items = rng.standard_normal((data.n_items, self.config.dim)).astype(np.float32)
        return FitResult()
