"""Per-user gating: a small model picks, for each user, the weight of score fusion's grid.

Inputs are the user features of :mod:`.features` (activity, mean popularity of the history, share of
history items with text, each view's score margin). Output: a softmax over the weight grid
0, 0.1, ..., 1. Training maximises the expected validation Recall@20, ``Σ_w p(w | u) R_u(w)``, where
``R_u(w)`` is user u's validation Recall@20 of score fusion with weight w (train items masked); the
model starts at the globally tuned weight (its logit raised), so the untrained gate is score fusion.
The written view uses each user's most probable weight. Epochs are chosen on held-out validation
users (:mod:`.training`) by the Recall@20 of that choice."""

from __future__ import annotations

import numpy as np
import torch

from .features import Standardiser
from .training import FIT_DTYPE, FitReport, LinearPlusMLP, fit_with_holdout

MAX_EPOCHS = 300
LR = 0.01
WEIGHT_DECAY = 1e-3
START_LOGIT = 2.0


class GateModel(LinearPlusMLP):
    """Logits over the weight grid; untrained, the globally best weight (``start``) wins."""

    def __init__(self, n_features: int, n_weights: int, scale: Standardiser, start: int):
        super().__init__(n_features, n_weights, scale)
        with torch.no_grad():
            self.linear.bias[start] = START_LOGIT


def fit_gate(user_features: torch.Tensor, recall: torch.Tensor, start: int) -> tuple[GateModel, FitReport]:
    """Fit on validation users: ``user_features [U, F]``, ``recall [U, W]`` (validation Recall@20 per
    grid weight); ``start`` is the index of the globally best weight."""
    scale = Standardiser(user_features)
    recall = recall.to(FIT_DTYPE)

    def loss_of(model: torch.nn.Module, rows: np.ndarray) -> torch.Tensor:
        idx = torch.from_numpy(rows)
        p = torch.softmax(model(user_features[idx]), dim=1)
        return -(p * recall[idx]).sum(dim=1).mean()

    def metric_of(model: torch.nn.Module, rows: np.ndarray) -> float:
        idx = torch.from_numpy(rows)
        choice = model(user_features[idx]).argmax(dim=1, keepdim=True)
        return float(recall[idx].gather(1, choice).mean())

    return fit_with_holdout(
        lambda: GateModel(user_features.shape[1], recall.shape[1], scale, start),
        loss_of,
        metric_of,
        user_features.shape[0],
        max_epochs=MAX_EPOCHS,
        lr=LR,
        weight_decay=WEIGHT_DECAY,
    )
