"""Reading ``complement.toml`` for the data steps: undecodable bytes, TOML syntax errors and values
of the wrong type under a known key each become one line naming the file and the key."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ConfigError, unknown_name

#: [dataset] keys of loaded data and the kinds of value they take: the first six for every kind (what ingest
#: reads and filters), the rest for the generic kind only (its columns, items file and text columns)
DATASET_KEYS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "path": (str,),
    "template": (str,),
    "min_rating": (int, float),
    "kcore": (int,),
    "collapse_repeats": (bool,),
    # generic only
    "user_col": (str,),
    "item_col": (str,),
    "time_col": (str,),
    "rating_col": (str,),
    "items": (str,),
    "text_cols": (str, list),
}
#: [dataset] keys of ``kind = "synthetic"`` (the generator's knobs)
SYNTHETIC_KEYS: dict[str, tuple[type, ...]] = {
    "kind": (str,),
    "users": (int,),
    "items": (int,),
    "shared": (int,),
    "semantic_private": (int,),
    "collab_private": (int,),
    "seed": (int,),
    "pop_skew": (int, float),
    "interactions_per_user": (int, float),
    "preference_strength": (int, float),
    "rotate": (bool,),
}
#: [dataset] keys only the generic kind takes (the other kinds know their files' columns)
GENERIC_KEYS = ("user_col", "item_col", "time_col", "rating_col", "items", "text_cols")
SPLIT_KEYS: dict[str, tuple[type, ...]] = {
    "method": (str,),
    "ratios": (list,),
    "seed": (int,),
    "temporal_cutoffs": (list,),
}
_KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list"}


def read_config(path: Path) -> dict[str, Any]:
    """The parsed and checked ``complement.toml`` at ``path`` ({} when there is none)."""
    if not path.exists():
        return {}
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (save complement.toml as UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    check_config(config, path)
    return config


def _kind_ok(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int in Python, not in TOML
        return bool in kinds
    return isinstance(value, kinds)


def _generic(kind: object) -> bool | None:
    """Whether a loaded dataset's ``kind`` (or an alias) is the generic one; None for a kind no loader has
    (refused by ingest's kind check, with the kinds)."""
    from .loaders import ALIASES, KINDS

    name = kind.strip().lower() if isinstance(kind, str) else ""
    name = ALIASES.get(name, name)
    return name == "generic" if name in KINDS else None


def _check_keys(section: str, table: dict[str, Any], source: Path | str) -> None:
    """Every key of [split], and of [dataset] for its kind, is one it takes: a mistyped key (``min_ratng``)
    would otherwise be ignored, its setting silently off. Synthetic data takes the generator's knobs only (its
    data is generated, not loaded); only the generic kind takes column names, an items file and text columns."""
    if section == "split":
        allowed: tuple[str, ...] = tuple(SPLIT_KEYS)
    elif table.get("kind") == "synthetic":
        allowed = tuple(SYNTHETIC_KEYS)
        for key in table:
            if key not in allowed and key in DATASET_KEYS:
                raise ConfigError(
                    f'{source}: [dataset] {key} does not apply to kind = "synthetic": its data is generated, not '
                    f"loaded (its keys: {', '.join(sorted(allowed))})"
                )
    else:
        generic = _generic(table.get("kind"))
        allowed = tuple(k for k in DATASET_KEYS if generic is not False or k not in GENERIC_KEYS)
        for key in table:
            if key not in allowed and key in GENERIC_KEYS:
                raise ConfigError(
                    f'{source}: [dataset] {key} applies to kind = "generic" only, not to {table["kind"]!r} '
                    f"(whose keys are: {', '.join(sorted(allowed))})"
                )
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{source}: [{section}]: {unknown_name('key', str(key), allowed)}")


def check_config(config: dict[str, Any], source: Path | str = "complement.toml") -> None:
    """Each key of [dataset] and [split] is one its table takes (for the dataset's kind) and holds a value of
    its kind; numbers are finite."""
    dataset = config.get("dataset")
    synthetic = isinstance(dataset, dict) and dataset.get("kind") == "synthetic"
    for section, keys in (("dataset", SYNTHETIC_KEYS if synthetic else DATASET_KEYS), ("split", SPLIT_KEYS)):
        table = config.get(section)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: '{section}' must be a table ([{section}]), not {type(table).__name__}")
        _check_keys(section, table, source)
        for key, kinds in keys.items():
            if key not in table:
                continue
            value = table[key]
            if not _kind_ok(value, kinds):
                wanted = " or ".join(_KIND_NAMES[k] for k in kinds if k in _KIND_NAMES)
                raise ConfigError(f"{source}: [{section}] {key} must be {wanted}, not {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{source}: [{section}] {key} must be a finite number, not {value}")
    split = config.get("split") or {}
    for key, length in (("ratios", 3), ("temporal_cutoffs", 2)):
        if key in split:
            values = split[key]
            if len(values) != length or not all(_kind_ok(v, (int, float)) and math.isfinite(v) for v in values):
                raise ConfigError(f"{source}: [split] {key} must be {length} finite numbers, not {values!r}")
    text_cols = (config.get("dataset") or {}).get("text_cols")
    if isinstance(text_cols, list) and not all(isinstance(c, str) for c in text_cols):
        raise ConfigError(f"{source}: [dataset] text_cols must be a list of column names, not {text_cols!r}")
