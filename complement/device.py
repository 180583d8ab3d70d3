"""The one place that turns ``--device auto|cpu|cuda`` into a torch device."""

from __future__ import annotations

from .errors import DeviceError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto"):
    """Return a ``torch.device``: ``auto`` picks CUDA when present, else the CPU.

    ``cuda`` (or ``cuda:N``) without a CUDA device raises :class:`DeviceError`.
    """
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"--device {name} was asked for but no CUDA device is available; use --device cpu or auto"
            )
        return torch.device(name)
    raise DeviceError(f"unknown device '{name}' (choose from: auto, cpu, cuda)")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) for a reproducible fit."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
