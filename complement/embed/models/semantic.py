"""The paper's semantic baseline: text vectors mapped by one shared linear layer, InfoNCE.

    t_i = normalise(text_i),   t_u = normalise(mean_{i ∈ train(u)} t_i)
    e = normalise(W t),  W ∈ R^{dim × d} without bias, shared by users and items
    loss = InfoNCE(e_u, e_i⁺, 256 sampled negatives, τ = 0.1)

W starts (semi-)orthogonal: for d ≤ 64 that is exactly the untrained "mean of the user's item text
vectors" ranking; training learns which directions of the text space predict interactions.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from ...device import one_cpu_thread
from ...errors import DataError
from ..train import TrainData
from .base import TorchRecommender, info_nce_loss


def normalise(matrix: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(matrix, dim=-1)


def user_text_sums(text: torch.Tensor, data: TrainData) -> torch.Tensor:
    """``[n_users, d]`` on ``text``'s device: the sum of each user's train items' rows of ``text``."""
    users, items = data.train
    sums = torch.zeros(data.n_users, text.shape[1], dtype=text.dtype, device=text.device)
    return sums.index_add_(0, torch.from_numpy(users).to(text.device), text[torch.from_numpy(items).to(text.device)])


def user_mean_text(text: torch.Tensor, data: TrainData) -> torch.Tensor:
    """``[n_users, d]``: the mean of each user's train items' rows of ``text``; zeros without any."""
    counts = torch.bincount(torch.from_numpy(data.train[0]), minlength=data.n_users).clamp(min=1)
    return user_text_sums(text, data) / counts.to(text.dtype).unsqueeze(1).to(text.device)


def user_text_vectors(data: TrainData, item_text: torch.Tensor) -> torch.Tensor:
    """normalise(mean of each user's train items' vectors), computed as normalise(sum); users without
    train items get zeros."""
    return normalise(user_text_sums(item_text, data))


def require_text(data: TrainData, model: str) -> np.ndarray:
    """The text vectors of ``data`` (float32), or an error that says how to get them."""
    if data.text_vectors is None:
        raise DataError(
            f"model '{model}' needs item text vectors: run `complement embed` first (or pass --text-view NAME)"
        )
    return np.asarray(data.text_vectors, dtype=np.float32)


#: the schedule shared by the models trained from text vectors by InfoNCE over sampled negatives
#: (``semantic``, ``alpharec``); each adds its own learning rate, batch size and temperature
TEXT_MODEL_DEFAULTS: dict = {
    "dim": 64,
    "epochs": 100,
    "min_epochs": 10,
    "patience": 5,
    "eval_every": 2,
    "negatives": 256,
}


class SemanticLinear(TorchRecommender):
    name = "semantic"
    needs_text = True
    defaults: ClassVar[dict] = {**TEXT_MODEL_DEFAULTS, "lr": 1e-3, "batch_size": 2048, "temperature": 0.1}

    def build(self, data: TrainData, device: torch.device) -> None:
        text = torch.from_numpy(require_text(data, self.name)).to(device)
        self.item_text = normalise(text)
        self.user_text = user_text_vectors(data, self.item_text)
        self.projection = torch.nn.Linear(text.shape[1], self.config.dim, bias=False)
        # (semi-)orthogonal start: when d <= dim it preserves every cosine, so training starts from
        # the untrained mean-profile ranking; when d > dim it is a random orthogonal projection
        # on one thread: the QR behind it rounds differently with two, and the model would depend on the
        # machine's thread count (the rest of the training does not: tests/test_train_threads.py)
        generator = torch.Generator().manual_seed(self.config.seed)
        with one_cpu_thread():
            torch.nn.init.orthogonal_(self.projection.weight, generator=generator)

    def encode(self) -> tuple[torch.Tensor, torch.Tensor]:
        return normalise(self.projection(self.user_text)), normalise(self.projection(self.item_text))

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode()

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        device = self.item_text.device
        users, positives = self.batch_pairs(rows, device)
        negatives = self.sampled_items(self.config.negatives, generator, device)
        user_vecs = normalise(self.projection(self.user_text[users]))
        item_vecs = normalise(self.projection(self.item_text[torch.cat([positives, negatives])]))
        return info_nce_loss(user_vecs, item_vecs[: len(rows)], item_vecs[len(rows) :], self.config.temperature)
