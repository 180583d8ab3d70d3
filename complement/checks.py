"""Argument checks every command runs before it reads or writes anything.

Each raises :class:`~complement.errors.ConfigError` with one line naming the option, the rule and the
value given. Float options are checked for NaN and ±inf first: ``float("nan")`` passes every ``<`` test,
so a bare ``value <= 0`` check lets it through to the training loop."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError


def finite(
    option: str,
    value: float | None,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """``value`` when it is a finite number within the bounds (``None`` passes: "use the default")."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{option} must be a number, not {value!r}")
    rule = _rule(minimum, above, maximum)
    if not math.isfinite(value):
        raise ConfigError(f"{option} must be a finite number{rule}, not {value}")
    if (
        (minimum is not None and value < minimum)
        or (above is not None and value <= above)
        or (maximum is not None and value > maximum)
    ):
        raise ConfigError(f"{option} must be a finite number{rule}, not {value}")
    return float(value)


def integer(option: str, value: int | None, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
    """``value`` when it is an integer within the bounds (``None`` passes)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{option} must be an integer, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{option} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{option} must be at most {maximum}, not {value}")
    return int(value)


def file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as an input file ("does not exist", "is a folder, not a file"), None when it can."""
    path = Path(path).expanduser()
    if path.is_file():
        return None
    return "is a folder, not a file" if path.is_dir() else "does not exist"


class RepeatedEntry(ConfigError):
    """An entry given twice in a comma-separated value: the text reads, the list is refused (exit 1 on the
    command line, not a usage error)."""


def comma_list(option: str, value: str, *, distinct: bool = False) -> list[str]:
    """The entries of a comma-separated option value, stripped. An empty entry ('5,,10', a leading or
    trailing comma) is refused, naming the option; with ``distinct`` so is an entry given twice."""
    entries = [entry.strip() for entry in value.split(",")]
    if value.strip() and "" in entries:
        named = [e for e in entries if e]
        example = ",".join(named) if len(named) > 1 else "a,b"  # one entry alone does not show a list
        raise ConfigError(
            f"{option} has an empty entry in '{value}'; separate the entries with single commas, e.g. {example}"
        )
    entries = [entry for entry in entries if entry]
    if distinct and (twice := [e for i, e in enumerate(entries) if e in entries[:i]]):
        raise RepeatedEntry(f"{option} names '{twice[0]}' twice in '{value}'; name each once")
    return entries


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more of the digits 0-9. ``str.isdigit``, ``int()`` and the regex ``\\d``
    also take other scripts' digits (Arabic-Indic '٣', superscript '³', full-width ones), which a number typed in
    a flag or a name never means."""
    return text.isascii() and text.isdigit()


#: the largest seed any step accepts: seeds are stored in 32-bit columns, and numpy, torch and the generators
#: all take it; a run of ``count`` seeds from S uses S .. S + count - 1
SEED_MAX = 2**31 - 1
#: the largest user_idx / item_idx (32-bit key columns); also the cap of every size a command turns into an
#: array or tensor dimension (``--dim`` …): above it numpy and torch fail with an overflow, not a line of ours
KEY_MAX = 2**31 - 1


def seed(option: str, value: int | None, count: int = 1) -> int | None:
    """``value`` when it is a seed in [0, SEED_MAX] and so are the ``count - 1`` seeds after it (None passes)."""
    integer(option, value, minimum=0, maximum=SEED_MAX - max(count - 1, 0))
    return value


def _rule(minimum: float | None, above: float | None, maximum: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if minimum is not None:
        parts.append(f">= {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return (" " + " and ".join(parts)) if parts else ""


#: the rules of ``complement train``'s hyperparameter options (None = the model's default)
TRAIN_INTEGERS: Mapping[str, int] = {
    "epochs": 1,
    "dim": 1,
    "batch_size": 1,
    "layers": 0,
    "patience": 0,
    "min_epochs": 0,
    "eval_every": 1,
    "negatives": 1,
}
TRAIN_FLOATS: Mapping[str, dict] = {
    "lr": {"above": 0.0},
    "reg": {"minimum": 0.0},
    "temperature": {"above": 0.0},
    "align_weight": {"minimum": 0.0},
    "l2": {"above": 0.0},
    "text_weight": {"minimum": 0.0},
}


#: hyperparameters of the models' configs that are not ``complement train`` options (experiment-file keys only)
TRAIN_KEYS_ONLY: Mapping[str, int] = {"valid_users": 0}


def train_overrides(overrides: Mapping[str, object], where: str | None = None) -> None:
    """Every hyperparameter of ``complement train`` within its rule (unknown names are left alone). Errors
    name the option (``--epochs``), or with ``where`` the experiment-file key (``where.epochs``)."""

    def option(name: str) -> str:
        if where is not None:
            return f"{where}.{name}"
        return name if name in TRAIN_KEYS_ONLY else "--" + name.replace("_", "-")

    for name, minimum in {**TRAIN_INTEGERS, **TRAIN_KEYS_ONLY}.items():
        integer(option(name), overrides.get(name), minimum=minimum, maximum=KEY_MAX)  # type: ignore[arg-type]
    seed(option("seed"), overrides.get("seed"))  # type: ignore[arg-type]
    for name, bounds in TRAIN_FLOATS.items():
        finite(option(name), overrides.get(name), **bounds)  # type: ignore[arg-type]
