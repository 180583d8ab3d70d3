"""ranx run and qrels JSON: ``{"user": {"item": score}}`` (qrels: ``{"user": {"item": 1}}``).

A run has scores only; ranks come from the scores (descending, ties in the order of the file)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa

from ..errors import DataError
from . import text
from .raw import RawLists, make_raw


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object's members; a key given twice (JSON allows it, and ``json`` keeps the last) is an error."""
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate(key)
        out[key] = value
    return out


class _Duplicate(Exception):
    pass


class _NotFinite(float):
    """A JSON number that is not finite as a 64-bit float (``1e400``, or ``NaN``, ``Infinity``, ``-Infinity``, which
    JSON has not but Python's ``json`` reads), with ``text`` as the file wrote it, for the message."""

    text: str


def _number(written: str) -> float:
    """``parse_float`` and ``parse_constant`` of the run: a float, or a :class:`_NotFinite` that remembers its text."""
    value = float(written)
    if math.isfinite(value):
        return value
    out = _NotFinite(value)
    out.text = written
    return out


def read_run(path: Path) -> RawLists:
    try:
        data = json.loads(
            text.read_text(path).strip() or "{}",
            object_pairs_hook=_unique_keys,
            parse_float=_number,
            parse_constant=_number,
        )
    except _Duplicate as exc:
        raise DataError(
            f"{path}: the key '{text.shown(exc.args[0])}' appears twice in one JSON object (a user given twice, or "
            "an item twice in one user's run); nothing written"
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise DataError(f"{path}: not a ranx run ({str(exc).split(':')[0]})") from None
    except RecursionError:
        raise DataError(f"{path}: not a ranx run (JSON nested too deeply)") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DataError(f'{path}: a ranx run is a JSON object {{"user": {{"item": score}}}}')
    users, items = [], []
    scores: list[float] = []
    written: dict[int, str] = {}  # the non-finite scores as written, by row: make_raw names them so
    for user, ranked in data.items():
        for item, score in ranked.items():
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise DataError(
                    f"{path}: the score of user '{text.shown(user)}', item '{text.shown(item)}' is not a number "
                    f"({text.shown(repr(score))})"
                )
            if isinstance(score, _NotFinite):
                written[len(scores)] = score.text
            try:
                scores.append(float(score))
            except OverflowError:  # an integer beyond a float: refused with the other non-finite scores
                written[len(scores)] = str(score)
                scores.append(math.inf if score > 0 else -math.inf)
            users.append(user)
            items.append(item)
    return make_raw(str(path), users, items, None, scores, written)


def run_text(lists: pa.Table) -> str:
    """ranx run JSON from a ``topk``-shaped table sorted by user and rank (key order = rank order)."""
    out: dict[str, dict[str, float]] = {}
    for u, i, s in zip(*(lists.column(c).to_pylist() for c in ("user_id", "item_id", "score")), strict=True):
        out.setdefault(u, {})[i] = s
    return json.dumps(out, indent=1) + "\n"


def qrels_text(pairs: pa.Table) -> str:
    out: dict[str, dict[str, int]] = {}
    for u, i in zip(pairs.column("user_id").to_pylist(), pairs.column("item_id").to_pylist(), strict=True):
        out.setdefault(u, {})[i] = 1
    return json.dumps(out, indent=1) + "\n"
