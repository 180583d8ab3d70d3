"""LightGCN (He et al., SIGIR 2020): ID embeddings smoothed over the user-item graph, BPR loss.

    e^(l+1) = Â e^(l),   e = Σ_{l=0..L} e^(l) / (L + 1),   ŷ(u, i) = e_u · e_i
    loss = BPR(ŷ(u,i⁺), ŷ(u,i⁻)) + reg · (‖e⁰_u‖² + ‖e⁰_i⁺‖² + ‖e⁰_i⁻‖²) / (2 · batch)

Speed: the whole graph is propagated once per mini-batch step (as RecBole does) but with large
batches (8192 pairs), CSR products (:mod:`complement.embed.graph`) and a higher learning rate, so an
epoch is a few dozen sparse products instead of hundreds.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from ..graph import BipartiteGraph
from ..train import TrainData, pair_keys, uniform_negatives
from .base import TorchRecommender, bpr_loss


class LightGCN(TorchRecommender):
    name = "lightgcn"
    defaults: ClassVar[dict] = {
        "dim": 64,
        "layers": 2,
        "lr": 2e-2,
        "batch_size": 8192,
        "reg": 1e-2,
        "epochs": 200,
        "min_epochs": 40,
        "patience": 5,
        "eval_every": 5,
    }

    def build(self, data: TrainData, device: torch.device) -> None:
        dtype = self.dtype_on(device)
        self.graph = BipartiteGraph.from_pairs(data.n_users, data.n_items, *data.train, device=device, dtype=dtype)
        # created (and drawn) in the training dtype: float32 normal_ differs with the CPU's kernels, float64 not
        self.user_embedding = torch.nn.Embedding(data.n_users, self.config.dim, dtype=dtype)
        self.item_embedding = torch.nn.Embedding(data.n_items, self.config.dim, dtype=dtype)
        generator = torch.Generator().manual_seed(self.config.seed)
        torch.nn.init.normal_(self.user_embedding.weight, std=0.1, generator=generator)
        torch.nn.init.normal_(self.item_embedding.weight, std=0.1, generator=generator)
        self.rng = np.random.default_rng(self.config.seed + 1)
        self.positive_keys = pair_keys(*data.train, data.n_items)
        self.train_users = torch.from_numpy(data.train[0])
        self.train_items = torch.from_numpy(data.train[1])

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        users, items = self.user_embedding.weight, self.item_embedding.weight
        if self.config.layers == 0:
            return users, items
        return self.graph.propagate(users, items, self.config.layers)

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        return self.bpr_terms(rows)[0]

    def bpr_terms(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """BPR + reg loss of a batch, with what it computed on the way: ``(loss, item_final, positives)``
        (subclasses add terms on the same propagation)."""
        device = self.user_embedding.weight.device
        users, positives = self.batch_pairs(rows, device)
        sampled = uniform_negatives(self.rng, self.data.train[0][rows], self.data.n_items, self.positive_keys)
        negatives = torch.from_numpy(sampled).to(device)
        user_final, item_final = self.propagate()
        # index_select, not x[idx]: advanced-indexing backward accumulates in a thread-dependent order
        u, p, n = (
            user_final.index_select(0, users),
            item_final.index_select(0, positives),
            item_final.index_select(0, negatives),
        )
        loss = bpr_loss((u * p).sum(1), (u * n).sum(1))
        ego = (
            self.user_embedding(users).pow(2).sum()
            + self.item_embedding(positives).pow(2).sum()
            + self.item_embedding(negatives).pow(2).sum()
        )
        return loss + self.config.reg * ego / (2 * len(rows)), item_final, positives
