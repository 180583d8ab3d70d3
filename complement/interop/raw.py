"""The in-memory form of a ranked-list file before it is checked against a workspace.

Every reader returns a :class:`RawLists`: one row per (user, item) line of the file, ids as text,
``rank`` and ``score`` each present for every row or absent for the whole file."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from ..errors import DataError


@dataclass
class RawLists:
    """``table`` has string columns ``user_id``, ``item_id`` and, when the file has them, an int64
    ``rank`` and a float64 ``score``; ``source`` names the file in messages."""

    table: pa.Table
    source: str

    @property
    def has_rank(self) -> bool:
        return "rank" in self.table.column_names

    @property
    def has_score(self) -> bool:
        return "score" in self.table.column_names


def make_raw(source: str, users, items, ranks=None, scores=None) -> RawLists:
    """A :class:`RawLists` from Python sequences or Arrow arrays (ids are cast to text)."""
    columns = {
        "user_id": pa.array(users).cast(pa.string()) if not isinstance(users, pa.Array) else users.cast(pa.string()),
        "item_id": pa.array(items).cast(pa.string()) if not isinstance(items, pa.Array) else items.cast(pa.string()),
    }
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
    return RawLists(pa.table(columns), source)
