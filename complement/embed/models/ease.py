"""EASE (Steck, WWW 2019) and its collective form with the item text as side information (Jeunen, Van Balen
and Goethals, RecSys 2020): closed-form item-item models, no training loop.

With ``X`` the binary users × items train matrix and ``G = XᵀX`` its item Gram matrix,

    B = argmin ‖X − XB‖² + λ‖B‖²  subject to diag(B) = 0
      = I − P · diag(1 / diag(P)),   P = (G + λI)⁻¹,   score(u, i) = X_u · B[:, i]

``ease-text`` stacks the item text vectors under ``X`` as extra rows ("pseudo-users" whose interactions are the
coordinates of the items' L2-normalised text vectors, weighted by sqrt(a)): its Gram matrix is ``G + a·T Tᵀ`` (``T``
the normalised text vectors, so ``T Tᵀ`` holds the items' text cosines), and the rest is EASE. Co-occurrence in
the train split and similar text both make items predict each other; ``a = 0`` is plain EASE.

``l2`` (λ) and ``text_weight`` (a): a value fixes it; left unset, each is chosen on the validation split (train
masked, Recall@20 on the users training samples for early stopping) over :data:`L2_GRID` and
:data:`TEXT_WEIGHT_GRID` (ties: the smaller text weight, then the smaller λ). ``runs.metrics`` records the
chosen weights and each grid point's validation Recall@20.

Stored as vectors, so that ``topk`` and every diagnostic read them like any model's: user ``u``'s vector is the
row ``X_u`` and item ``i``'s the column ``B[:, i]``, both as wide as the catalogue. That is also the cost: ``P``
is a dense items × items matrix (float64, inverted once per grid point), and the user vectors a dense users ×
items one, so the models refuse catalogues above :data:`MAX_ITEMS` items. The Gram matrix and its inverse are
float64 (the stored vectors float32), and the fit runs on one CPU thread, so the vectors do not depend on the
thread count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ...device import one_cpu_thread
from ...errors import DataError
from ..train import FitResult, TrainData, validation_users
from ..validation import recall_at_k
from .base import Recommender, TrainConfig
from .semantic import require_text

#: λ tried when ``l2`` is not given (Steck's ML-20M optimum is 500; this catalogue-size-free grid brackets it)
L2_GRID: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
#: the text weights tried by ``ease-text`` when ``text_weight`` is not given (0 = plain EASE: text that does not
#: help is dropped)
TEXT_WEIGHT_GRID: tuple[float, ...] = (0.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
#: the largest catalogue the dense items × items inverse is allowed for (20,000 items: 3.2 GB per float64 matrix)
MAX_ITEMS = 20_000


@dataclass
class EASEConfig(TrainConfig):
    """TrainConfig plus EASE's λ; None chooses it on validation over its grid."""

    l2: float | None = None


@dataclass
class TextEASEConfig(EASEConfig):
    """EASEConfig plus the text's weight a; None chooses it on validation over its grid."""

    text_weight: float | None = None


class EASE(Recommender):
    name = "ease"
    config_class: ClassVar[type[EASEConfig]] = EASEConfig
    config: EASEConfig
    defaults: ClassVar[dict] = {"epochs": 0}

    def __init__(self, config: TrainConfig):
        if not isinstance(config, self.config_class):
            config = self.config_class(**config.to_dict())
        super().__init__(config)

    def text_gram(self, data: TrainData) -> np.ndarray | None:
        """The matrix T Tᵀ that ``text_weight`` scales (float64), or None for plain EASE."""
        return None

    def text_weights(self) -> tuple[float, ...]:
        return (0.0,)

    def fit(self, data: TrainData, report=None) -> FitResult:
        import time

        if data.n_items > MAX_ITEMS:
            raise DataError(
                f"{self.name} inverts a dense items x items matrix: {data.n_items:,} items is above its limit of "
                f"{MAX_ITEMS:,} (about {8 * data.n_items**2 / 1e9:.1f} GB per matrix); use another model"
            )
        started = time.perf_counter()
        users, items = data.train
        x = np.zeros((data.n_users, data.n_items), np.float32)
        x[users, items] = 1.0  # binary: a pair repeated in the train split counts once
        text = self.text_gram(data)
        with one_cpu_thread():
            x64 = torch.from_numpy(x).double()
            gram = x64.T @ x64
            l2s = L2_GRID if self.config.l2 is None else (float(self.config.l2),)
            alphas = self.text_weights() if text is not None else (0.0,)
            points = [(alpha, l2) for alpha in alphas for l2 in l2s]  # ties keep the first: smaller a, then λ
            if len(points) > 1 and len(data.valid[0]) == 0:
                raise DataError(
                    f"{self.name} chooses l2{' and text_weight' if text is not None else ''} on the validation "
                    "split, which is empty: give them (--l2, --text-weight) or add a validation split"
                )
            sample = validation_users(data.valid[0], self.config.valid_users) if len(data.valid[0]) else None
            grid: list[dict] = []
            best: tuple[float | None, float, float, np.ndarray] | None = None
            for alpha, l2 in points:
                vectors = np.ascontiguousarray(item_weights(gram, text, alpha, l2).T.float().numpy())
                recall = None
                if sample is not None:
                    recall = recall_at_k(x, vectors, data.train, data.valid, 20, users=sample)
                point = {"l2": l2, "text_weight": alpha} if text is not None else {"l2": l2}
                grid.append({**point, "valid_recall@20": recall})
                if report is not None and len(points) > 1:
                    setting = ", ".join(f"{name} {value:g}" for name, value in point.items())
                    report({"epoch": len(grid), "of": len(points), "setting": setting, **grid[-1]})
                if best is None or (recall is not None and best[0] is not None and recall > best[0]):
                    best = (recall, l2, alpha, vectors)
        assert best is not None
        valid, l2, alpha, self._items = best
        self._users = x
        self.chosen = {"l2": l2, "text_weight": alpha} if text is not None else {"l2": l2}
        return FitResult(
            best_valid_recall=valid,
            train_seconds=time.perf_counter() - started,
            extra={"closed_form": True, **self.chosen, **({"grid": grid} if len(grid) > 1 else {})},
        )


class TextEASE(EASE):
    name = "ease-text"
    needs_text = True
    config_class = TextEASEConfig
    config: TextEASEConfig

    def text_gram(self, data: TrainData) -> np.ndarray | None:
        text = torch.from_numpy(require_text(data, self.name)).double()
        text = torch.nn.functional.normalize(text, dim=1)
        with one_cpu_thread():
            return (text @ text.T).numpy()

    def text_weights(self) -> tuple[float, ...]:
        return TEXT_WEIGHT_GRID if self.config.text_weight is None else (float(self.config.text_weight),)


def item_weights(gram: torch.Tensor, text: np.ndarray | None, alpha: float, l2: float) -> torch.Tensor:
    """EASE's B (float64) for the Gram matrix ``gram`` plus ``alpha`` times ``text`` and ``l2`` on the diagonal."""
    matrix = gram.clone()
    if text is not None and alpha:
        matrix += alpha * torch.from_numpy(text)
    matrix.diagonal().add_(l2)
    # symmetric positive definite (a Gram matrix plus λ > 0): Cholesky inverts it in 60% of a general inverse's time
    inverse = torch.cholesky_inverse(torch.linalg.cholesky(matrix))
    weights = -inverse / inverse.diagonal()
    weights.diagonal().zero_()
    return weights
