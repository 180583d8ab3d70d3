"""The mapper contract and the registry that turns a name (``linear``, ``lowrank:8``, ``mlp2``,
``mlp:512x512``) into a mapper.

A mapper learns ``f: source item vectors -> target item vectors`` on the *fit* items only.
``fit(X, Y, seed)`` returns the mapper, ``predict(X)`` returns an ``n x d_target`` float32 array,
``epochs_run`` is the epoch whose weights were kept (``None`` for closed-form mappers)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..checks import comma_list
from ..errors import ConfigError, unknown_name

VALIDATION_SHARE = 0.15
"""Share of the fit items held back to choose λ (ridge) or the stopping epoch (MLPs)."""


class Mapper(ABC):
    """A source -> target map fitted on the fit items only."""

    name: str = ""
    epochs_run: int | None = None

    @abstractmethod
    def fit(self, X: np.ndarray, Y: np.ndarray, seed: int = 0) -> Mapper:
        """Fit on ``X`` (n x d_source) -> ``Y`` (n x d_target); returns ``self``."""

    @abstractmethod
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Map ``X`` (m x d_source) to an ``m x d_target`` float32 array."""

    def details(self) -> dict[str, float]:
        """Extra numbers worth recording (chosen λ, stopping epoch, …) as ``metric -> value``."""
        return {}


def validation_split(n: int, seed: int, share: float = VALIDATION_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``(train_rows, validation_rows)`` of ``n`` fit items; at least one row in each when n >= 2."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(max(1, round(share * n)), n - 1) if n >= 2 else 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


# ---- registry --------------------------------------------------------------------------------
MLP_PRESETS: dict[str, tuple[int, ...]] = {"mlp1": (512,), "mlp2": (2048, 2048), "mlp3": (2048, 2048, 2048)}
MAPPER_NAMES = ("linear", "lowrank:R", *MLP_PRESETS, "mlp:WxW…")
# [0-9], not \d: \d (and int()) also take other scripts' digits, as 'mlp:٣'
_LOWRANK = re.compile(r"^lowrank:([0-9]+)$")
_MLP = re.compile(r"^mlp:([0-9]+(?:x[0-9]+)*)$")


def make_mapper(
    name: str,
    device: str = "auto",
    max_epochs: int | None = None,
    batch_size: int | None = None,
    early_stopping: bool = True,
) -> Mapper:
    """Build the mapper called ``name``; an unknown name raises :class:`ConfigError` listing the valid ones.

    ``device``, ``max_epochs``, ``batch_size`` and ``early_stopping`` only matter for the neural mappers."""
    from .linear import RidgeMapper
    from .lowrank import ReducedRankMapper
    from .mlp import MLPMapper

    name = read_mapper_name(name)
    mlp_options: dict[str, Any] = {"device": device, "early_stopping": early_stopping}
    mlp_options |= ({"max_epochs": max_epochs} if max_epochs else {}) | (
        {"batch_size": batch_size} if batch_size else {}
    )
    if name == "linear":
        return RidgeMapper()
    if match := _LOWRANK.match(name):
        rank = int(match.group(1))
        if rank < 1:
            raise ConfigError("lowrank:R needs a rank R >= 1 (e.g. lowrank:8)")
        return ReducedRankMapper(rank)
    if name in MLP_PRESETS:
        return MLPMapper(MLP_PRESETS[name], name=name, **mlp_options)
    if match := _MLP.match(name):
        widths = tuple(int(w) for w in match.group(1).split("x"))
        if min(widths) < 1:
            raise ConfigError(f"mapper '{name}': every hidden width must be >= 1")
        return MLPMapper(widths, name=name, **mlp_options)
    raise ConfigError(unknown_name("mapper", name, MAPPER_NAMES))


def read_mapper_name(name: str) -> str:
    """``name`` normalised when it reads as a mapper (linear, lowrank:R, mlp1, mlp2, mlp3, mlp:WxW, R and W in the
    digits 0-9); else :class:`ConfigError` (on the CLI a usage error). Its values (R, W >= 1) are
    :func:`make_mapper`'s to check."""
    name = (name or "").strip().lower()
    if any(c.isdigit() and not c.isascii() for c in name):
        raise ConfigError(f"mapper '{name}': write ranks and widths with the digits 0-9")
    if name == "linear" or name in MLP_PRESETS or _LOWRANK.match(name) or _MLP.match(name):
        return name
    raise ConfigError(unknown_name("mapper", name, MAPPER_NAMES))


def read_mapper_names(text: str) -> list[str]:
    """``--mapper``'s comma-separated text read entry by entry (:func:`read_mapper_name`): what the parser can
    refuse. A rank of 0 or a mapper named twice reads, and :func:`parse_mappers` refuses it."""
    return [read_mapper_name(name) for name in comma_list("--mapper", text)]


def parse_mappers(names: str | list[str] | tuple[str, ...]) -> list[str]:
    """Validate a comma-separated list (or sequence) of mapper names; returns them normalised. A name given
    twice is refused (each mapper's rows would be written twice under one name)."""
    if isinstance(names, str):
        names = comma_list("--mapper", names)
    names = [n.strip().lower() for n in names if n.strip()]
    if not names:
        raise ConfigError("no mapper given (e.g. --mapper linear,mlp1)")
    for n in names:
        make_mapper(n, device="cpu")  # raises on an unknown name before any work starts
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"mapper '{twice[0]}' is named twice ({', '.join(names)}); name each mapper once")
    return names
