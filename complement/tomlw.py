"""A small TOML writer for the experiment file (the standard library only reads TOML).

Handles what complement.toml uses: nested tables, arrays of tables, strings, numbers, booleans
and lists of scalars."""

from __future__ import annotations

import json
import math
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("TOML cannot hold NaN/inf here")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps(data: dict[str, Any], prefix: str = "") -> str:
    """Serialise ``data`` to TOML text."""
    lines: list[str] = []
    nested: list[tuple[str, Any]] = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_scalar(value)}")
    out = "\n".join(lines)
    for key, value in nested:
        name = f"{prefix}{_key(key)}"
        if isinstance(value, dict):
            body = dumps(value, prefix=f"{name}.")
            out += ("\n\n" if out else "") + f"[{name}]\n" + body
        else:
            for entry in value:
                body = dumps(entry, prefix=f"{name}.")
                out += ("\n\n" if out else "") + f"[[{name}]]\n" + body
    return out.strip("\n") + "\n" if not prefix else out.strip("\n")
