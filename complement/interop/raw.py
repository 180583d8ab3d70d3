"""The in-memory form of a ranked-list file before it is checked against a workspace.

Every reader returns a :class:`RawLists`: one row per (user, item) line of the file, ids as text,
``rank`` and ``score`` each present for every row or absent for the whole file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from ..errors import DataError
from . import text

#: the ranks a file may hold at all (a 64-bit integer); those outside 1..n per user are refused later, with
#: the rest of the file's problems (:mod:`complement.interop.lists`)
RANK_MIN, RANK_MAX = -(2**63), 2**63 - 1
EXAMPLES = 3


@dataclass
class RawLists:
    """``table`` has string columns ``user_id``, ``item_id`` and, when the file has them, an int64
    ``rank`` and a float64 ``score``; ``source`` names the file in messages."""

    table: pa.Table
    source: str
    #: a CSV/TSV read as headerless: its first line is the first row (a header naming no known column, if the
    #: ids of that row are unknown; :mod:`complement.interop.lists` says so)
    first_row_read_as_data: bool = False

    @property
    def has_rank(self) -> bool:
        return "rank" in self.table.column_names

    @property
    def has_score(self) -> bool:
        return "score" in self.table.column_names


def make_raw(source: str, users, items, ranks=None, scores=None, written: Mapping[int, str] | None = None) -> RawLists:
    """A :class:`RawLists` from Python sequences or Arrow arrays (ids are cast to text). ``written``: the text
    of the scores that are not finite numbers as the file wrote them (``1e400``, ``NaN``), by row, for a reader
    that parsed them itself; scores given as text (a CSV's) are named as written without it."""
    columns = {}
    for name, ids in (("user_id", users), ("item_id", items)):
        try:
            columns[name] = (ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(ids)).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            text = str(exc).splitlines()[0]
            if "invalid utf8" in text.lower():
                raise DataError(f"{source}: some {name.removesuffix('_id')} ids are not UTF-8 text") from None
            raise DataError(f"{source}: the {name.removesuffix('_id')} ids are not text or numbers ({text})") from None
    try:
        if ranks is not None:
            columns["rank"] = (ranks if isinstance(ranks, (pa.Array, pa.ChunkedArray)) else pa.array(ranks)).cast(
                pa.int64()
            )
        if scores is not None:
            columns["score"] = (scores if isinstance(scores, (pa.Array, pa.ChunkedArray)) else pa.array(scores)).cast(
                pa.float64()
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"{source}: a rank or score is not a number ({str(exc).splitlines()[0]})") from None
    except OverflowError:  # a Python int beyond 64 bits
        raise DataError(
            f"{source}: a rank is out of range (beyond a 64-bit integer); ranks are 1..n within each user's list"
        ) from None
    table = pa.table(columns)
    if "score" in columns:
        as_text = isinstance(scores, (pa.Array, pa.ChunkedArray)) and (
            pa.types.is_string(scores.type) or pa.types.is_large_string(scores.type)
        )
        _check_finite_scores(table, source, written or {}, scores if as_text else None)
    return RawLists(table, source)


def _check_finite_scores(
    table: pa.Table, source: str, written: Mapping[int, str], text_scores: pa.Array | pa.ChunkedArray | None
) -> None:
    """One :class:`DataError` naming the rows whose score is NaN, inf or -inf (or a number beyond a 64-bit float,
    read as ±inf), each score as the file wrote it (``written`` by row, else ``text_scores``, the column as read
    when it was text): they cannot be ranked or fused (a NaN compares false with everything, so a per-user
    z-score over it is NaN for the whole list)."""
    import pyarrow.compute as pc

    bad = pc.invert(pc.fill_null(pc.is_finite(table.column("score")), True))
    count = pc.sum(bad).as_py() or 0
    if not count:
        return

    def as_written(row: int) -> object:
        if row in written:
            return written[row]
        return (text_scores if text_scores is not None else table.column("score"))[row].as_py()

    users, items = table.column("user_id"), table.column("item_id")
    rows = pc.indices_nonzero(bad).slice(0, EXAMPLES).to_pylist()
    shown = ", ".join(
        f"'{text.shown(users[row].as_py())}'/'{text.shown(items[row].as_py())}' = {text.shown(as_written(row))}"
        for row in rows
    )
    raise DataError(
        f"{source}: {count} {'score is not a finite number' if count == 1 else 'scores are not finite numbers'} "
        f"(user/item: {shown}{', ...' if count > len(rows) else ''}); a score must be a finite number, not NaN, "
        "inf, -inf or beyond a 64-bit float (about ±1.8e308); nothing written"
    )
