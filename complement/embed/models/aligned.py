"""Alignment baselines: LightGCN whose collaborative item vectors are tied to the semantic view.

Both keep LightGCN's BPR objective (:mod:`.lightgcn`) on the propagated vectors ``e`` and add
``align_weight · L_align`` over the item vectors, with ``t̂_i`` the L2-normalised text vector:

- ``aligned-contrastive`` (the RLMRec family, Ren et al., WWW 2024): ``g`` = MLP d→2·dim→dim
  (LeakyReLU), and a symmetric InfoNCE between ``normalise(e_i)`` and ``normalise(g(t̂_i))`` over the
  batch's distinct positive items (other items of the batch are the negatives, τ = ``temperature``);
- ``aligned-mse`` (the global low-complexity alignment hypothesis as a regulariser): ``W`` linear
  d→dim, and ``L_align = mean_i ‖n(e_i) − n(W t̂_i)‖²`` over every item (``n`` = L2 normalisation;
  without it the pull is met by shrinking both sides toward zero, which wrecks BPR instead). A strong weight forces the
  collaborative item vectors into a linear image of the text vectors, so signal the text cannot
  express (the collaborative-private part) is lost and recall falls toward the semantic view's.

The weight is ``align_weight`` (library: ``create_model("aligned-mse", align_weight=10)``;
CLI: ``--align-weight``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..train import TrainData
from .base import TrainConfig
from .lightgcn import LightGCN
from .semantic import require_text

MAX_ALIGN_ITEMS = 2048  # items per contrastive alignment batch (keeps the logits matrix small)


@dataclass
class AlignedConfig(TrainConfig):
    """TrainConfig plus the weight of the alignment loss."""

    align_weight: float = 1.0


class AlignedLightGCN(LightGCN):
    """LightGCN + ``align_weight · alignment_loss(item vectors, text vectors)``."""

    needs_text = True
    config_class = AlignedConfig
    config: AlignedConfig  # __init__ makes sure of it
    item_text: torch.Tensor  # a buffer, registered in build()

    def __init__(self, config: TrainConfig):
        if not isinstance(config, AlignedConfig):
            config = AlignedConfig(**{**config.to_dict(), "align_weight": self.defaults.get("align_weight", 1.0)})
        super().__init__(config)

    def build(self, data: TrainData, device: torch.device) -> None:
        super().build(data, device)
        text = torch.from_numpy(require_text(data, self.name)).to(device=device, dtype=self.dtype_on(device))
        self.register_buffer("item_text", F.normalize(text, dim=1))
        self.build_projection(self.item_text.shape[1], torch.Generator().manual_seed(self.config.seed + 2))

    def build_projection(self, text_dim: int, generator: torch.Generator) -> None:
        raise NotImplementedError

    def alignment_loss(
        self, item_vectors: torch.Tensor, positives: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        raise NotImplementedError

    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor:
        """LightGCN's BPR + reg loss and the alignment loss, from one propagation."""
        loss, item_final, positives = self.bpr_terms(rows)
        return loss + self.config.align_weight * self.alignment_loss(item_final, positives, generator)


class ContrastiveAligned(AlignedLightGCN):
    name = "aligned-contrastive"
    # its InfoNCE training turns a last-bit difference of another CPU's kernels into vectors that differ by
    # up to 1e-1 in float32; in float64 they differed by at most 4e-12 (docs/models.md)
    cpu_float64 = True
    defaults: ClassVar[dict] = {**LightGCN.defaults, "align_weight": 0.1, "temperature": 0.2}

    def build_projection(self, text_dim: int, generator: torch.Generator) -> None:
        hidden = 2 * self.config.dim
        dtype = self.item_text.dtype
        first, last = (
            torch.nn.Linear(text_dim, hidden, dtype=dtype),
            torch.nn.Linear(hidden, self.config.dim, dtype=dtype),
        )
        self.projection = torch.nn.Sequential(first, torch.nn.LeakyReLU(), last)
        for layer in (first, last):
            torch.nn.init.normal_(layer.weight, std=layer.in_features**-0.5, generator=generator)
            torch.nn.init.zeros_(layer.bias)

    def alignment_loss(self, item_vectors, positives, generator):
        """Symmetric InfoNCE between collaborative and projected semantic vectors of the batch's items."""
        items = torch.unique(positives)
        if len(items) > MAX_ALIGN_ITEMS:
            items = items[torch.randperm(len(items), generator=generator)[:MAX_ALIGN_ITEMS].to(items.device)]
        collaborative = F.normalize(item_vectors.index_select(0, items), dim=1)
        semantic = F.normalize(self.projection(self.item_text[items]), dim=1)
        logits = collaborative @ semantic.T / self.config.temperature
        target = torch.arange(len(items), device=logits.device)
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


class MSEAligned(AlignedLightGCN):
    name = "aligned-mse"
    defaults: ClassVar[dict] = {**LightGCN.defaults, "align_weight": 1.0}

    def build_projection(self, text_dim: int, generator: torch.Generator) -> None:
        self.projection = torch.nn.Linear(text_dim, self.config.dim, bias=False, dtype=self.item_text.dtype)
        torch.nn.init.normal_(self.projection.weight, std=0.1 * text_dim**-0.5, generator=generator)

    def alignment_loss(self, item_vectors, positives, generator):
        """``mean_i ‖n(e_i) − n(W t̂_i)‖²`` over every item, ``n`` = L2 normalisation (scale-free, so
        the pull cannot be met by shrinking both sides to zero)."""
        collaborative = F.normalize(item_vectors, dim=1)
        semantic = F.normalize(self.projection(self.item_text), dim=1)
        return (collaborative - semantic).pow(2).sum(1).mean()
