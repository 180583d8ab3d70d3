"""Learned rank fusion: a listwise model over the union of the views' top lists (two views, or more).

Each candidate (user u, item i from any view's top-``depth``) is described by every view's z-score
and log rank, top-20 flags, the item's popularity, its similarity to the user's history in each view's
item space and the user's features (:mod:`.features`). The score is ``linear(x) + mlp(x)`` (one hidden
layer). The linear part starts at score fusion with the tuned weights (for more than two views, the best
vector of tenths summing to 1) and the MLP at zero, so the untrained model ranks exactly like score fusion
over the candidates; training minimises the listwise softmax cross-entropy of the
user's validation items among their candidates (train items masked). The number of epochs is chosen
on held-out validation users (:mod:`.training`), whose Recall@20 over the candidates is the criterion."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .features import Standardiser
from .training import FitReport, LinearPlusMLP, fit_with_holdout

MAX_EPOCHS = 150
LR = 0.01
WEIGHT_DECAY = 1e-4
RECALL_K = 20


class RankerModel(LinearPlusMLP):
    """One score per candidate; untrained, score fusion with the views' ``weights``."""

    def __init__(self, n_features: int, scale: Standardiser, weights: tuple[float, ...]):
        super().__init__(n_features, 1, scale)
        with torch.no_grad():
            # start at sum_v w_v * z_v (the first len(weights) columns are the views' raw z-scores before scaling)
            for column, weight in enumerate(weights):
                self.linear.weight[0, column] = weight * float(scale.std[column])

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return super().forward(rows).squeeze(-1)


def candidate_inputs(features: torch.Tensor, user_features: torch.Tensor) -> torch.Tensor:
    """``[users, candidates, F + F_user]``: each candidate's features next to its user's."""
    return torch.cat([features, user_features.unsqueeze(1).expand(-1, features.shape[1], -1)], dim=2)


def masked_logits(model: torch.nn.Module, inputs: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    return model(inputs).masked_fill(~valid, float("-inf"))


def fit_ranker(
    inputs: torch.Tensor,
    valid: torch.Tensor,
    labels: torch.Tensor,
    truth_sizes: torch.Tensor,
    weights: tuple[float, ...],
    fits: int = 1,
) -> tuple[torch.nn.Module, list[FitReport]]:
    """Fit on validation users: ``inputs [U, C, F]``, ``valid``/``labels [U, C]`` (label = a validation
    item), ``truth_sizes [U]`` (the user's validation items, also those outside the candidates).

    With ``fits`` > 1, fit ``fits`` models, the j-th choosing its epochs on the held-out fifth drawn with
    seed j (and initialised with that seed), and return their mean score (:class:`RankerBag`): each fit's
    epoch count is a noisy choice on a fifth of the users, and the mean is steadier than any one of them.
    ``fits`` = 1 is the single model of seed 0.

    The fits run where the tensors are (a GPU's full-batch steps are many times faster on a large
    catalogue); the returned model is on the CPU, where the writing pass scores the candidates."""
    device = inputs.device
    scale = Standardiser(inputs[valid])
    users = fitting_users(valid, labels)
    loss_of, metric_of = objective(inputs, valid, labels, truth_sizes, users)

    models, reports, cpu_scale = [], [], scale.to(torch.device("cpu"))
    for seed in range(fits):
        model, report = fit_with_holdout(
            lambda: RankerModel(inputs.shape[2], scale, weights).to(device),
            loss_of,
            metric_of,
            len(users),
            max_epochs=MAX_EPOCHS,
            lr=LR,
            weight_decay=WEIGHT_DECAY,
            seed=seed,
        )
        model.scale = cpu_scale
        models.append(model.cpu())
        reports.append(report)
    return (models[0] if fits == 1 else RankerBag(models)), reports


def fitting_users(valid: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """The users with a validation item among their candidates: only they can teach the order."""
    return np.flatnonzero((labels & valid).any(dim=1).cpu().numpy())


def objective(
    inputs: torch.Tensor, valid: torch.Tensor, labels: torch.Tensor, truth_sizes: torch.Tensor, users: np.ndarray
) -> tuple[Callable[[torch.nn.Module, np.ndarray], torch.Tensor], Callable[[torch.nn.Module, np.ndarray], float]]:
    """``(loss_of, metric_of)`` over rows of ``users``: the listwise softmax cross-entropy of the validation
    items among the candidates, and the mean Recall@20 of the model's order of the candidates (over each
    user's validation items, also those outside the candidates)."""
    device = inputs.device

    def loss_of(model: torch.nn.Module, rows: np.ndarray) -> torch.Tensor:
        idx = torch.from_numpy(users[rows]).to(device)
        logp = torch.log_softmax(masked_logits(model, inputs[idx], valid[idx]), dim=1)
        positive = (labels[idx] & valid[idx]).to(logp.dtype)
        per_user = -(logp.masked_fill(positive == 0, 0.0) * positive).sum(dim=1) / positive.sum(dim=1)
        return per_user.mean()

    def metric_of(model: torch.nn.Module, rows: np.ndarray) -> float:
        idx = torch.from_numpy(users[rows]).to(device)
        logits = masked_logits(model, inputs[idx], valid[idx])
        top = torch.topk(logits, min(RECALL_K, logits.shape[1]), dim=1).indices
        hits = (labels[idx] & valid[idx]).gather(1, top).sum(dim=1).to(torch.float64)
        return float((hits / truth_sizes[idx]).mean())

    return loss_of, metric_of


class RankerBag(torch.nn.Module):
    """The mean score of several fitted rankers."""

    def __init__(self, models: list[RankerModel]):
        super().__init__()
        self.models = torch.nn.ModuleList(models)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return torch.stack([model(rows) for model in self.models]).mean(dim=0)
