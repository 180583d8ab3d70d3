"""The model registry: ``complement train MODEL`` looks the name up here."""

from __future__ import annotations

from ...errors import ConfigError, unknown_name
from .aligned import ContrastiveAligned, MSEAligned
from .alpharec import AlphaRec
from .base import Recommender, TorchRecommender, TrainConfig
from .ease import EASE, TextEASE
from .fusion import DualBranchFusion
from .lightgcn import LightGCN
from .mf import BPRMF
from .pop import Popularity
from .random import RandomVectors
from .semantic import SemanticLinear

MODELS: dict[str, type[Recommender]] = {
    model.name: model
    for model in (
        LightGCN,
        BPRMF,
        SemanticLinear,
        AlphaRec,
        Popularity,
        RandomVectors,
        DualBranchFusion,
        ContrastiveAligned,
        MSEAligned,
        EASE,
        TextEASE,
    )
}


def model_class(name: str) -> type[Recommender]:
    """The model class registered as ``name``; an unknown name lists the models."""
    if name not in MODELS:
        raise ConfigError(unknown_name("model", name, MODELS))
    return MODELS[name]


def create_model(name: str, **overrides) -> Recommender:
    """A model with its defaults, overridden by every non-None keyword (``lr=1e-3`` …); an unknown
    keyword is a :class:`ConfigError`."""
    cls = model_class(name)
    return cls(getattr(cls, "config_class", TrainConfig).with_overrides(cls.defaults, overrides))


__all__ = ["MODELS", "Recommender", "TorchRecommender", "TrainConfig", "create_model", "model_class"]
