"""The small base class every model implements (after ``implicit``'s ``fit``/``recommend``).

A model is fitted on :class:`~complement.embed.train.TrainData` and then exposes user and item
vectors (numpy float32, rows in ``user_idx`` / ``item_idx`` order) whose dot product is its score;
that is what the ``embeddings`` and ``topk`` tables store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np
import torch

from ...errors import ConfigError, unknown_name
from ..train import VALID_SAMPLE_USERS, FitResult, TrainData, fit_loop
from ..validation import seen_rows


@dataclass
class TrainConfig:
    """Hyperparameters shared by the models; each model sets its own defaults (``defaults``)."""

    epochs: int = 300
    dim: int = 64
    layers: int = 2
    lr: float = 5e-3
    batch_size: int = 8192
    reg: float = 1e-4
    patience: int = 10
    min_epochs: int = 50
    eval_every: int = 5
    valid_users: int = VALID_SAMPLE_USERS  # validation Recall@20 on a fixed sample of this many users (0: all)
    seed: int = 2020
    temperature: float = 0.1
    negatives: int = 256
    device: str = "cpu"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def with_overrides(cls, defaults: dict, overrides: dict) -> TrainConfig:
        """Model defaults, then the user's non-None overrides; a key the config does not have is a
        :class:`ConfigError` listing the hyperparameters (a typo must not train with the default)."""
        names = [f.name for f in fields(cls)]
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in (*defaults, *given):
            if key not in names:
                raise ConfigError(unknown_name("hyperparameter", key, names))
        return cls(**{**defaults, **given})


class Recommender(ABC):
    """``fit(data) -> FitResult``, which stores the vectors in ``_users`` and ``_items``; ``user_embeddings()``,
    ``item_embeddings()``; ``recommend``."""

    name: ClassVar[str] = ""
    needs_text: ClassVar[bool] = False
    defaults: ClassVar[dict] = {}

    def __init__(self, config: TrainConfig):
        self.config = config
        self._users: np.ndarray | None = None
        self._items: np.ndarray | None = None

    @abstractmethod
    def fit(self, data: TrainData, report: Callable[[dict], None] | None = None) -> FitResult:
        """Fit on ``data.train`` (early stopping on ``data.valid`` where the model trains)."""

    def user_embeddings(self) -> np.ndarray:
        """``[n_users, dim]`` float32: the user vectors ``fit`` stored."""
        if self._users is None:
            raise RuntimeError(f"{self.name}: user_embeddings before fit")
        return self._users

    def item_embeddings(self) -> np.ndarray:
        """``[n_items, dim]`` float32: the item vectors ``fit`` stored."""
        if self._items is None:
            raise RuntimeError(f"{self.name}: item_embeddings before fit")
        return self._items

    def recommend(
        self, user_idx: np.ndarray, k: int, seen: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (item_idx, score) per user by score = user · item, ``seen`` pairs masked;
        ties broken by the lower item index."""
        users = np.asarray(user_idx, np.int64)
        scores = torch.from_numpy(self.user_embeddings()[users]) @ torch.from_numpy(self.item_embeddings()).T
        if seen is not None and len(seen[0]):
            rows, items = seen_rows(seen, users)
            scores[torch.from_numpy(rows), torch.from_numpy(items)] = -torch.inf
        # stable sort on descending score keeps lower item indices first among ties
        order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]
        return order.numpy(), torch.gather(scores, 1, order).numpy()


class TorchRecommender(Recommender, torch.nn.Module):
    """A model trained by :func:`complement.embed.train.fit_loop`.

    Subclasses implement ``build(data)`` (create parameters), ``batch_loss(rows, generator)`` and
    ``propagate()`` -> (user vectors, item vectors) as torch tensors.

    ``cpu_float64``: train in float64 on the CPU (parameters, buffers and graph; the written vectors
    are float32 as always). For a model whose training amplifies rounding: another CPU type's kernels
    round a float32 product differently in the last bit, and such a model's vectors then differ by
    up to 1e-1 (docs/models.md, "Same seed, same vectors")."""

    cpu_float64: ClassVar[bool] = False

    def __init__(self, config: TrainConfig):
        torch.nn.Module.__init__(self)
        Recommender.__init__(self, config)

    @abstractmethod
    def build(self, data: TrainData, device: torch.device) -> None: ...

    @abstractmethod
    def batch_loss(self, rows: np.ndarray, generator: torch.Generator) -> torch.Tensor: ...

    @abstractmethod
    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]: ...

    def fit(self, data: TrainData, report: Callable[[dict], None] | None = None) -> FitResult:
        from ...device import resolve_device

        device = resolve_device(self.config.device)
        self.data = data
        self.build(data, device)
        self.to(device=device, dtype=self.dtype_on(device))
        result = fit_loop(self, self.batch_loss, self._eval_embeddings, data, self.config, device, report)
        with torch.no_grad():
            users, items = self.propagate()
        self._users = users.detach().float().cpu().numpy()
        self._items = items.detach().float().cpu().numpy()
        return result

    def dtype_on(self, device: torch.device) -> torch.dtype:
        """The dtype this model trains in on ``device`` (see ``cpu_float64``)."""
        return torch.float64 if self.cpu_float64 and device.type == "cpu" else torch.float32

    def batch_pairs(self, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The train (user, positive item) pairs of a batch's ``rows``, as index tensors on ``device``."""
        users, items = self.data.train
        return torch.from_numpy(users[rows]).to(device), torch.from_numpy(items[rows]).to(device)

    def sampled_items(self, count: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        """``count`` items drawn uniformly with replacement by ``generator``: negatives shared by a batch."""
        return torch.randint(0, self.data.n_items, (count,), generator=generator).to(device)

    def _eval_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return self.propagate()


def bpr_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """BPR (Rendle et al., 2009): mean of -ln sigmoid(s(u,i⁺) - s(u,i⁻))."""
    return torch.nn.functional.softplus(neg_scores - pos_scores).mean()


def info_nce_loss(
    user: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor, temperature: float
) -> torch.Tensor:
    """InfoNCE (van den Oord et al., 2018) with shared sampled negatives:
    mean of -ln( e^{s⁺/τ} / (e^{s⁺/τ} + Σ_j e^{s⁻_j/τ}) ), s = cosine of L2-normalised vectors.
    ``user``, ``positive``: [B, d]; ``negatives``: [N, d] shared by the batch."""
    pos = (user * positive).sum(1, keepdim=True)
    neg = user @ negatives.T
    logits = torch.cat([pos, neg], 1) / temperature
    return torch.nn.functional.cross_entropy(logits, torch.zeros(len(user), dtype=torch.long, device=user.device))
