"""Declarative experiments: ``complement.toml`` → an incremental run of every step."""

from .execute import run_experiment
from .schema import load, set_override, validate

__all__ = ["load", "run_experiment", "set_override", "validate"]
