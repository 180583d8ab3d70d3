"""``mlp1`` / ``mlp2`` / ``mlp3`` / ``mlp:WxW…``: a ReLU multi-layer perceptron trained with MSE and Adam.

Inputs are z-scored and targets centred and scaled with statistics of the fit items (undone in
``predict``). A seeded slice of the fit items is held back; training stops when its MSE has not
improved for ``patience`` epochs (after at least ``min_epochs``), and the weights of the best
epoch are kept — ``epochs_run`` is that epoch (1-based). With ``early_stopping=False`` (the paper's
protocol) every fit item is trained on for exactly ``max_epochs`` epochs and the last weights are kept."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from ..device import resolve_device, seed_everything
from ..errors import DataError
from .base import Mapper, validation_split

if TYPE_CHECKING:  # torch is imported lazily
    from torch import nn


class MLPMapper(Mapper):
    """``Linear → ReLU`` per hidden width, then a linear output layer."""

    def __init__(
        self,
        widths: tuple[int, ...],
        name: str | None = None,
        device: str = "auto",
        lr: float = 1e-3,
        batch_size: int = 256,
        max_epochs: int = 200,
        min_epochs: int = 5,
        patience: int = 10,
        early_stopping: bool = True,
    ):
        self.widths = tuple(int(w) for w in widths)
        self.name = name or "mlp:" + "x".join(map(str, self.widths))
        self.device_name = device
        self.lr, self.batch_size = lr, batch_size
        self.max_epochs, self.min_epochs, self.patience = max_epochs, min_epochs, patience
        self.early_stopping = early_stopping
        self.epochs_run: int | None = None
        self.model: nn.Module | None = None

    def _build(self, d_in: int, d_out: int) -> nn.Module:
        from torch import nn

        layers, width_in = [], d_in
        for width in self.widths:
            layers += [nn.Linear(width_in, width), nn.ReLU()]
            width_in = width
        layers.append(nn.Linear(width_in, d_out))
        return nn.Sequential(*layers)

    def fit(self, X: np.ndarray, Y: np.ndarray, seed: int = 0) -> MLPMapper:
        import torch

        seed_everything(seed)
        device = resolve_device(self.device_name)
        X = np.asarray(X, np.float32)
        Y = np.asarray(Y, np.float32)
        self.x_mean, self.x_std = X.mean(0), X.std(0) + 1e-8
        self.y_mean, self.y_scale = Y.mean(0), float(Y.std()) + 1e-8
        Xs = torch.as_tensor((X - self.x_mean) / self.x_std, device=device)
        Ys = torch.as_tensor((Y - self.y_mean) / self.y_scale, device=device)
        if self.early_stopping:
            train, valid = validation_split(len(X), seed)
        else:
            train, valid = np.arange(len(X)), np.zeros(0, dtype=np.int64)
        train_t = torch.as_tensor(train, device=device)
        valid_t = torch.as_tensor(valid if len(valid) else train, device=device)

        self.model = self._build(X.shape[1], Y.shape[1]).to(device)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        generator = torch.Generator(device="cpu").manual_seed(seed)
        best_loss, best_state, best_epoch, since_best = float("inf"), None, 0, 0
        for epoch in range(1, self.max_epochs + 1):
            self.model.train()
            order = train_t[torch.randperm(len(train_t), generator=generator).to(device)]
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                loss = torch.mean((self.model(Xs[rows]) - Ys[rows]) ** 2)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            if not self.early_stopping:
                continue
            self.model.eval()
            with torch.no_grad():
                valid_loss = float(torch.mean((self.model(Xs[valid_t]) - Ys[valid_t]) ** 2))
            if valid_loss < best_loss:
                best_loss, best_epoch, since_best = valid_loss, epoch, 0
                best_state = copy.deepcopy(self.model.state_dict())
            else:
                since_best += 1
            if epoch >= self.min_epochs and since_best >= self.patience:
                break
        if not self.early_stopping:
            best_epoch = epoch = self.max_epochs
        elif best_state is None:  # no epoch had a finite validation loss: there are no weights worth keeping
            raise DataError(f"mapper {self.name}: the validation loss was never finite (NaN or inf in the vectors?)")
        else:
            self.model.load_state_dict(best_state)
        self.epochs_run = best_epoch
        self.epochs_trained = epoch
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        if self.model is None:
            raise RuntimeError("MLPMapper.predict before fit")
        device = next(self.model.parameters()).device
        Xs = torch.as_tensor((np.asarray(X, np.float32) - self.x_mean) / self.x_std, device=device)
        self.model.eval()
        with torch.no_grad():
            out = (
                torch.cat([self.model(Xs[i : i + 4096]) for i in range(0, len(Xs), 4096)])
                if len(Xs)
                else self.model(Xs)
            )
        return out.cpu().numpy() * self.y_scale + self.y_mean

    def details(self) -> dict[str, float]:
        if self.epochs_run is None:
            return {}
        return {"best_epoch": float(self.epochs_run), "epochs_trained": float(self.epochs_trained)}
