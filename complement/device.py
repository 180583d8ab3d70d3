"""The one place that turns ``--device auto|cpu|cuda`` into a torch device."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .checks import ascii_digits
from .errors import DeviceError

DEVICES = ("auto", "cpu", "cuda")


def unavailable(name: str | None) -> str | None:
    """Why ``cuda`` (or ``cuda:N``) cannot be used on this machine, None when it can (or ``name`` is
    no CUDA device): the one test :func:`resolve_device` applies, also run when an experiment loads.
    Imports torch only for a CUDA name."""
    name = (name or "auto").lower()
    if not name.startswith("cuda"):
        return None
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device is available"
    index = name.partition(":")[2]
    if ascii_digits(index) and int(index) >= (count := torch.cuda.device_count()):
        return f"this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}"
    return None


def resolve_device(name: str = "auto"):
    """Return a ``torch.device``: ``auto`` picks CUDA when present, else the CPU.

    ``cuda`` (or ``cuda:N``) without a CUDA device (or without device N) raises :class:`DeviceError`.
    """
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if (why := unavailable(name)) is not None:
            raise DeviceError(f"--device {name} was asked for but {why}; use --device cpu or auto")
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


@contextmanager
def one_cpu_thread() -> Iterator[None]:
    """torch's CPU thread count set to 1 inside the block, restored after it.

    For the few CPU computations whose last bits depend on the thread count (the order a sum is split
    in): the learned fusions' fitting loops (:mod:`complement.fusion.training`) and the QR of the
    ``semantic`` model's orthogonal start. Inside the block they give the same bits on any machine's
    thread count (on one CPU type: another instruction set may still round differently)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
