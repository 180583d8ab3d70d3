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
from .semantic import normalise, require_text


class AlphaRec(TorchRecommender):
    name = "alpharec"
    needs_text = True
    defaults: ClassVar[dict] = {
        "dim": 64,
        "layers": 2,
        "lr": 5e-4,
        "batch_size": 4096,
        "epochs": 100,
        "min_epochs": 10,
        "patience": 5,
        "eval_every": 2,
        "temperature": 0.15,
        "negatives": 256,
    }

    def build(self, data: TrainData, device: torch.device) -> None:
        text = torch.from_numpy(require_text(data, self.name)).to(device)
        users, items = data.train
        sums = torch.zeros(data.n_users, text.shape[1], device=device)
        sums.index_add_(0, torch.from_numpy(users).to(device), text[torch.from_numpy(items).to(device)])
        counts = torch.from_numpy(np.bincount(users, minlength=data.n_users)).clamp_min(1).to(device)
        self.user_text = sums / counts.unsqueeze(1).float()
        self.item_text = text
        self.graph = BipartiteGraph.from_pairs(data.n_users, data.n_items, users, items, device=device)
        torch.manual_seed(self.config.seed)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(text.shape[1], 512), torch.nn.LeakyReLU(), torch.nn.Linear(512, self.config.dim)
        )

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        users, items = self.graph.propagate(self.mlp(self.user_text), self.mlp(self.item_text), self.config.layers)
        return normalise(users), normalise(items)

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        device = self.item_text.device
        users = torch.from_numpy(self.data.train[0][rows]).to(device)
        positives = torch.from_numpy(self.data.train[1][rows]).to(device)
        negatives = torch.randint(0, self.data.n_items, (self.config.negatives,), generator=generator).to(device)
        user_final, item_final = self.propagate()
        # index_select, not x[idx]: advanced-indexing backward accumulates in a thread-dependent order
        return info_nce_loss(
            user_final.index_select(0, users),
            item_final.index_select(0, positives),
            item_final.index_select(0, negatives),
            self.config.temperature,
        )
