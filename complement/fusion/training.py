"""The model and fitting loop shared by the learned fusions (``gate``, ``ranker``): ``linear(x) + mlp(x)``
over standardised features, fitted by full-batch Adam on the validation users, the number of epochs
chosen on a held-out fifth of them, then a refit on all of them for that many epochs.

The loop runs on one CPU thread and in float64. The gradient sums over users in another order (another
thread count) change the last bits of the weights, and so do the dense products of another CPU type (the
math libraries pick their kernels by instruction set); over a hundred Adam steps a float32 difference in
the last bit grows enough to move near ties in the lists. With one thread the fitted model is the same on
any thread count; in float64 the fused lists of ml-100k gave the same recall with every kernel set torch
offers on the CPU, with a few adjacent pairs swapped (docs/fusion.md, "Same lists on every CPU").

Nothing here sees the test split: the callers pass features computed with the train items masked and
targets from the valid split."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch

from ..device import one_cpu_thread
from .features import Standardiser

HOLDOUT_SHARE = 0.2
EVAL_EVERY = 10
HIDDEN = 16  # units of the MLP part
FIT_DTYPE = torch.float64  # the models' parameters and arithmetic (the module's note says why)

Model = TypeVar("Model", bound=torch.nn.Module)


class LinearPlusMLP(torch.nn.Module):
    """``linear(x) + mlp(x)`` on standardised rows ``x`` (one hidden ReLU layer of ``HIDDEN`` units), in
    ``FIT_DTYPE`` whatever the rows' dtype.

    Both parts start at zero; a subclass sets the linear part to the untrained rule it starts from
    (score fusion with the tuned weight), and training adds what that rule misses."""

    def __init__(self, n_features: int, n_outputs: int, scale: Standardiser):
        super().__init__()
        self.scale = scale
        self.linear = torch.nn.Linear(n_features, n_outputs)
        out = torch.nn.Linear(HIDDEN, n_outputs)
        self.hidden = torch.nn.Sequential(torch.nn.Linear(n_features, HIDDEN), torch.nn.ReLU(), out)
        with torch.no_grad():
            for layer in (self.linear, out):
                layer.weight.zero_()
                layer.bias.zero_()
        self.to(FIT_DTYPE)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        x = self.scale(rows.to(FIT_DTYPE))
        return self.linear(x) + self.hidden(x)


@dataclass
class FitReport:
    epochs: int
    holdout_metric: dict[int, float] = field(default_factory=dict)  # epoch -> held-out metric (higher is better)
    baseline_holdout: float | None = None  # the same metric for the untrained reference rule


def holdout_split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(fit, holdout)`` row indices: a seeded random fifth held out (at least one row each when n >= 2)."""
    order = np.random.default_rng(seed).permutation(n)
    n_hold = min(max(1, round(n * HOLDOUT_SHARE)), n - 1) if n >= 2 else 0
    return np.sort(order[n_hold:]), np.sort(order[:n_hold])


def fit_with_holdout(
    make_model: Callable[[], Model],
    loss_of: Callable[[torch.nn.Module, np.ndarray], torch.Tensor],
    metric_of: Callable[[torch.nn.Module, np.ndarray], float],
    n_rows: int,
    *,
    max_epochs: int,
    lr: float,
    weight_decay: float,
    seed: int = 0,
) -> tuple[Model, FitReport]:
    """Train on 80% of the rows, pick the epoch count (multiple of ``EVAL_EVERY``, or 0 = the model's
    initial state) with the best held-out metric, and retrain on every row for that many epochs (on one
    CPU thread: see the module's note)."""
    with one_cpu_thread():
        fit_rows, hold_rows = holdout_split(n_rows, seed)
        report = FitReport(epochs=0)
        if len(hold_rows):
            torch.manual_seed(seed)
            model = make_model()
            optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
            with torch.no_grad():
                report.holdout_metric[0] = metric_of(model, hold_rows)
            for epoch in range(1, max_epochs + 1):
                optimiser.zero_grad()
                loss_of(model, fit_rows).backward()
                optimiser.step()
                if epoch % EVAL_EVERY == 0:
                    with torch.no_grad():
                        report.holdout_metric[epoch] = metric_of(model, hold_rows)
            # ties: the fewer epochs
            report.epochs = max(report.holdout_metric, key=lambda e: (round(report.holdout_metric[e], 12), -e))
        all_rows = np.arange(n_rows)
        torch.manual_seed(seed)
        model = make_model()
        optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        for _ in range(report.epochs):
            optimiser.zero_grad()
            loss_of(model, all_rows).backward()
            optimiser.step()
        model.eval()
        return model, report
