"""The machinery of a step's options declaration: ``option(...)`` fields and the ``Options`` base class
(construction from a mapping with checked keys, choices, types and bounds). The declarations themselves
are in ``complement.steps.options``."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar, Self

from ..choices import Device, check_choice, check_device
from ..errors import ConfigError, unknown_name


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    choices: type[StrEnum] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    kind: type | tuple[type, ...] | None = None,
    show_default: bool = True,
    validate: Callable[[Any], object] | None = None,
    parse: Callable[[str], object] | None = None,
) -> Any:
    """A declared option: ``default`` plus what the CLI, the TOML loader and ``--help`` need."""
    meta = {
        "help": help,
        "flag": flag,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "kind": kind,
        "show_default": show_default,
        "validate": validate,  # raises ConfigError on a bad value (the library's check, exit 1 on the CLI)
        # raises ConfigError on command-line text that does not read as the option's type: the parser runs it,
        # so such text is a usage error (exit 2); a readable value that is refused is validate's (exit 1)
        "parse": parse,
    }
    return field(default=default, metadata=meta)


def flag_of(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


@dataclass(frozen=True)
class Options:
    """Base of every step's options: construction from a mapping with checked keys and values."""

    step: ClassVar[str] = ""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def changed(cls, values: Mapping[str, Any]) -> list[str]:
        """The declared options in ``values`` whose value is not the option's default (what a user set)."""
        return [f.name for f in fields(cls) if f.name in values and values[f.name] != f.default]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str | None = None, ignore: tuple[str, ...] = ()) -> Self:
        """The options in ``values`` (missing ones take their defaults); an unknown key or a bad value is
        a :class:`ConfigError` naming ``where``. Keys in ``ignore`` belong to the caller (a view's name …)."""
        where = where or f"[{cls.step}]"
        allowed = cls.keys()
        given = {}
        for key, value in values.items():
            if key in ignore:
                continue
            if key not in allowed:
                raise ConfigError(f"{where}: {unknown_name('key', key, (*ignore, *allowed))}")
            given[key] = value
        return cls(**given).checked(where)

    def checked(self, where: str = "", bounds: bool = True) -> Self:
        """The options with every enum-valued field as its member; a bad value raises :class:`ConfigError`.
        Without ``bounds`` only choices and types are checked (the library checks ranges with its own
        messages)."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            name = f"{where}.{f.name}" if where else f.name
            if (validate := f.metadata.get("validate")) is not None:
                try:
                    validate(value)
                except ConfigError as exc:
                    raise ConfigError(f"{name}: {exc}") from None
            choices = f.metadata.get("choices")
            if choices is Device:
                changes[f.name] = check_device(value, name)
                continue
            if choices is not None:
                if isinstance(value, (list, tuple)):
                    changes[f.name] = tuple(check_choice(choices, v, name) for v in value)
                else:
                    changes[f.name] = check_choice(choices, value, name)
                continue
            kind = f.metadata.get("kind")
            if kind is not None:
                kinds = kind if isinstance(kind, tuple) else (kind,)
                if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
                    allowed = " or ".join(k.__name__ for k in kinds)
                    raise ConfigError(f"{name} must be {allowed}, not {value!r}")
            lo, hi = f.metadata.get("minimum"), f.metadata.get("maximum")
            if bounds and isinstance(value, (int, float)) and not isinstance(value, bool):
                if isinstance(value, float) and not math.isfinite(value):
                    raise ConfigError(f"{name} must be a finite number, not {value!r}")
                if lo is not None and value < lo:
                    raise ConfigError(f"{name} must be at least {lo}, not {value!r}")
                if hi is not None and value > hi:
                    raise ConfigError(f"{name} must be at most {hi}, not {value!r}")
        return dataclasses.replace(self, **changes) if changes else self

    def as_dict(self) -> dict[str, Any]:
        """Plain values (enum members as their strings, tuples as lists): what a run records."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, tuple):
                value = [v.value if isinstance(v, StrEnum) else v for v in value]
            out[f.name] = value
        return out
