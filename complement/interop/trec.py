"""TREC run and qrels files (whitespace-separated, as trec_eval reads them).

Run: ``qid Q0 docno rank score tag`` — qid is the user, docno the item. Qrels: ``qid 0 docno rel``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..errors import DataError
from .raw import RANK_MAX, RANK_MIN, RawLists, make_raw


def read_run(path: Path) -> RawLists:
    users, items, ranks, scores, lines = [], [], [], [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 6:
                raise DataError(
                    f"{path}: line {number} has {len(fields)} fields; a TREC run line is 'qid Q0 docno rank score tag'"
                )
            users.append(fields[0])
            items.append(fields[2])
            ranks.append(fields[3])
            scores.append(fields[4])
            lines.append(number)
    try:
        rank_values = [int(r) for r in ranks]
        score_values = [float(s) for s in scores]
    except ValueError:
        bad = next(r for r, s in zip(ranks, scores, strict=True) if not _is_number(r, int) or not _is_number(s, float))
        raise DataError(f"{path}: rank and score must be numbers (found '{bad}')") from None
    # a rank beyond a 64-bit integer cannot be stored, let alone be 1..n: refused here, by line, before
    # the conversion to Arrow (an ordinary out-of-range rank is named with the others by check_lists)
    for number, user, rank in zip(lines, users, rank_values, strict=True):
        if not RANK_MIN <= rank <= RANK_MAX:
            raise DataError(
                f"{path}: line {number} (user '{user}'): rank {rank} is out of range; ranks are 1..n within each "
                "user's list; nothing written"
            )
    return make_raw(str(path), users, items, rank_values, score_values)


def _is_number(text: str, kind: type) -> bool:
    try:
        kind(text)
        return True
    except ValueError:
        return False


def run_text(lists: pa.Table, tag: str) -> str:
    """TREC run lines from a ``topk``-shaped table sorted by user and rank."""
    rows = zip(*(lists.column(c).to_pylist() for c in ("user_id", "rank", "item_id", "score")), strict=True)
    return "".join(f"{u} Q0 {i} {r} {s!r} {tag}\n" for u, r, i, s in rows)


def qrels_text(pairs: pa.Table) -> str:
    """TREC qrels lines (relevance 1) from a table of distinct ``user_id, item_id`` pairs."""
    rows = zip(pairs.column("user_id").to_pylist(), pairs.column("item_id").to_pylist(), strict=True)
    return "".join(f"{u} 0 {i} 1\n" for u, i in rows)
