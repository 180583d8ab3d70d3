"""AlphaRec-style model (Sheng et al., 2024, "Language Representations Can be What Recommenders Need"):
language representations mapped into the recommendation space, then graph-smoothed.

    z_i = MLP(t_i),  z_u = MLP(mean_{i ∈ train(u)} t_i),   MLP = Linear(d, 512) → LeakyReLU → Linear(512, dim)
    (e_u, e_i) = LightGCN propagation of (z_u, z_i) over the train graph (``layers``, default 2)
    loss = InfoNCE(normalise(e_u), normalise(e_i⁺), 256 sampled negatives, τ = 0.15)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from ..graph import BipartiteGraph
from ..train import TrainData
from .base import TorchRecommender, info_nce_loss
from .semantic import TEXT_MODEL_DEFAULTS, normalise, require_text, user_mean_text


class AlphaRec(TorchRecommender):
    name = "alpharec"
    needs_text = True
    defaults: ClassVar[dict] = {**TEXT_MODEL_DEFAULTS, "layers": 2, "lr": 5e-4, "batch_size": 4096, "temperature": 0.15}

    def build(self, data: TrainData, device: torch.device) -> None:
        text = torch.from_numpy(require_text(data, self.name)).to(device)
        self.user_text = user_mean_text(text, data)
        self.item_text = text
        self.graph = BipartiteGraph.from_pairs(
            data.n_users, data.n_items, *data.train, device=device, dtype=self.dtype_on(device)
        )
        torch.manual_seed(self.config.seed)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(text.shape[1], 512), torch.nn.LeakyReLU(), torch.nn.Linear(512, self.config.dim)
        )

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        users, items = self.graph.propagate(self.mlp(self.user_text), self.mlp(self.item_text), self.config.layers)
        return normalise(users), normalise(items)

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        device = self.item_text.device
        users, positives = self.batch_pairs(rows, device)
        negatives = self.sampled_items(self.config.negatives, generator, device)
        user_final, item_final = self.propagate()
        # index_select, not x[idx]: advanced-indexing backward accumulates in a thread-dependent order
        return info_nce_loss(
            user_final.index_select(0, users),
            item_final.index_select(0, positives),
            item_final.index_select(0, negatives),
            self.config.temperature,
        )
