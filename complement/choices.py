"""Every closed set of choices a step takes, as string enums.

The CLI derives its ``--help`` choices and its parser check from these (a typo exits 2 with click's
usage error); the experiment file's loader checks its values against them (``check_choice``); library
functions accept a member or its string value. Each member *is* its string (``StrEnum``), so code that
compares with ``"train+valid"`` or writes the value to a table needs no conversion.

Kept free of heavy imports: the model names are listed here and a test checks them against the model
registry (importing the registry would import torch)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from .checks import ascii_digits
from .errors import ConfigError, unknown_name

# Each enum is built from its values (a member's name is its value), or from (name, value) pairs where a
# value is no Python name (train+valid, aligned-contrastive). Above each, where it is used:

#: ``complement fuse --method``: how two views' scores or lists are combined
FuseMethod = StrEnum("FuseMethod", "score rrf concat gate ranker cca")
#: the fusion methods that take more than two views (the others fuse exactly two)
MULTI_VIEW_METHODS = ("ranker",)
#: the fusion methods that also fuse list views, by their stored lists (the others read the views' vectors)
LIST_FUSION_METHODS = ("score", "rrf")
#: the fusion methods whose view has vectors; the others write top-K lists only (a list view)
VECTOR_FUSION_METHODS = ("concat",)


def fusion_views_wanted(method: str | None, names: list[str]) -> str | None:
    """``None`` when ``names`` suit fusion ``method``; else what it takes ("exactly two different views", or for the
    methods of ``MULTI_VIEW_METHODS`` "two or more different views")."""
    many = method in MULTI_VIEW_METHODS
    if len(names) >= 2 and len(set(names)) == len(names) and (len(names) == 2 or many):
        return None
    return "two or more different views" if many else "exactly two different views"


#: the fusion methods that average several fits (``fuse --fits``), and the most fits they take
BAGGED_METHODS = ("ranker",)
MAX_FITS = 50
#: a seed bag (``train --bag N``): at most MAX_BAG models, member j trained with seed + j * BAG_SEED_STEP
MAX_BAG = 20
BAG_SEED_STEP = 1000


def fits_unsuited(method: str | None, fits: object) -> str | None:
    """``None`` when ``fits`` suits fusion ``method``: a whole number from 1 to ``MAX_FITS``, and 1 unless the
    method is one of ``BAGGED_METHODS``; else why not."""
    if isinstance(fits, bool) or not isinstance(fits, int) or not 1 <= fits <= MAX_FITS:
        return f"fits must be a whole number from 1 to {MAX_FITS}, got {fits!r}"
    if fits != 1 and method not in BAGGED_METHODS:
        return f"fits is the ranker's option (several fits averaged), not {method}'s; leave it at 1"
    return None


def fold_in_unsuited(fold_in: object, exclude: object) -> str | None:
    """``None`` unless the ranker's fold-in is asked for with only train masked: the valid items are then not
    part of what the written lists mask, so there is nothing to fold in; else why not."""
    if fold_in is True and str(getattr(exclude, "value", exclude)) == "train":
        return (
            "reads the masked valid items as the user's history when writing, and with exclude train the valid "
            "items are not masked: there is nothing to fold in (exclude train+valid, or leave fold-in out)"
        )
    return None


#: the fuse options only some methods read, and those methods: another method would ignore the value, so
#: giving one (a value other than its default) to another method is refused
METHOD_OPTIONS: dict[str, tuple[str, ...]] = {
    "weight": ("score", "cca"),
    "norm": ("score",),
    "rrf_k": ("rrf",),
    "fold_in": ("ranker",),
}


def options_unsuited(method: str | None, given: Iterable[str]) -> tuple[str, str] | None:
    """``None`` when every option in ``given`` (those set to other than their default) is read by fusion
    ``method``; else the first that is not, and why (the caller names it as a flag or a key)."""
    for name in given:
        readers = METHOD_OPTIONS.get(name)
        if readers is not None and method not in readers:
            return name, f"is read by {' and '.join(readers)} only, not by {method}; leave it out"
    return None


#: ``fuse --norm``: the per-user standardisation of scores before ``score`` fusion
Norm = StrEnum("Norm", "zscore minmax")
#: ``--exclude``: which interaction splits are masked (seen items) in a top-K list
Exclude = StrEnum("Exclude", [("train", "train"), ("train_valid", "train+valid")])
#: an interaction split (``export --qrels --split``)
Split = StrEnum("Split", "train valid test")
#: ``init --split`` / ``[split].method``: how interactions are divided into train, valid and test
SplitMethod = StrEnum("SplitMethod", "random loo temporal")
#: ``complement train MODEL``: the registered models (``complement.embed.models.MODELS``)
ModelName = StrEnum(
    "ModelName",
    [
        ("lightgcn", "lightgcn"),
        ("mf", "mf"),
        ("semantic", "semantic"),
        ("alpharec", "alpharec"),
        ("pop", "pop"),
        ("random", "random"),
        ("fusion", "fusion"),
        ("aligned_contrastive", "aligned-contrastive"),
        ("aligned_mse", "aligned-mse"),
        ("ease", "ease"),
        ("ease_text", "ease-text"),
    ],
)
#: ``probe --shift``: how items are divided into fit and held-out sets
Shift = StrEnum("Shift", "random popularity cold")
#: ``probe --protocol``: ours (early-stopped MLPs) or the paper's (a fixed 400 epochs)
Protocol = StrEnum("Protocol", "ours paper")
#: ``diagnose --engine``: where a diagnostic's SQL runs
Engine = StrEnum("Engine", "duckdb spark")
#: ``--device``: ``auto`` picks CUDA when present (the library also takes ``cuda:N``)
Device = StrEnum("Device", "auto cpu cuda")
#: ``embed --precision``: the encoder's floating-point type; ``auto`` is float16 on CUDA, float32 on the CPU
Precision = StrEnum("Precision", "auto float16 float32 float64")
#: ``report --format``: one self-contained HTML page or Markdown
ReportFormat = StrEnum("ReportFormat", "html markdown")


#: the fixed probe mapper names; ``lowrank:R`` and ``mlp:WxW…`` take a parameter, so mappers are
#: checked by ``complement.probes.parse_mappers`` rather than an enum
MAPPER_PRESETS = ("linear", "mlp1", "mlp2", "mlp3")

E = TypeVar("E", bound=StrEnum)


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def check_choice(enum: type[E], value: object, where: str, kind: str | None = None) -> E:
    """``value`` as a member of ``enum``, or a one-line :class:`ConfigError` naming ``where`` and the
    allowed values."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    what = kind or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", enum.__name__).lower()  # SplitMethod: "split method"
    raise ConfigError(f"{where}: {unknown_name(what, str(value), values(enum))}")


def check_choices(enum: type[E], items: Iterable[object], where: str, kind: str | None = None) -> list[E]:
    return [check_choice(enum, item, where, kind) for item in items]


def check_device(value: object, where: str) -> str:
    """A device name: one of :class:`Device`, or ``cuda:N`` for a particular GPU."""
    if isinstance(value, str) and value.startswith("cuda:") and ascii_digits(value[5:]):
        return value
    return check_choice(Device, value, where, "device").value
