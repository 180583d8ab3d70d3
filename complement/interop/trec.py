"""TREC run and qrels files (whitespace-separated, as trec_eval reads them).

Run: ``qid Q0 docno rank score tag`` — qid is the user, docno the item. Qrels: ``qid 0 docno rel``."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pyarrow as pa

from ..errors import DataError
from . import text
from .raw import RANK_MAX, RANK_MIN, RawLists, make_raw

_INTEGER = re.compile(r"[+-]?[0-9]+")


#: what a 4-field line is: a qrels file given where a run is read
QRELS_HINT = ", and 4 fields ('qid 0 docno relevance') is a qrels line: the ground truth, not a run"


def read_run(path: Path) -> RawLists:
    users, items, ranks = [], [], []
    scores: list[float] = []
    written: dict[int, str] = {}  # the non-finite scores as written ('1e999', 'NaN'), by row: make_raw names them so
    for number, line in text.lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            raise DataError(
                f"{path}: line {number} has {len(fields)} fields; a TREC run line is 'qid Q0 docno rank score tag'"
                + (QRELS_HINT if len(fields) == 4 else "")
            )
        # Python's int() and float() also read '1_0' and other scripts' digits, which trec_eval does not
        if not _INTEGER.fullmatch(fields[3]):
            raise DataError(f"{path}: line {number}: the rank '{text.shown(fields[3])}' is not an integer")
        rank = int(fields[3])
        try:
            if not fields[4].isascii() or "_" in fields[4]:
                raise ValueError
            score = float(fields[4])
        except ValueError:
            raise DataError(f"{path}: line {number}: the score '{text.shown(fields[4])}' is not a number") from None
        # a rank beyond a 64-bit integer cannot be stored, let alone be 1..n: refused here, by line, before
        # the conversion to Arrow (an ordinary out-of-range rank is named with the others by check_lists)
        if not RANK_MIN <= rank <= RANK_MAX:
            raise DataError(
                f"{path}: line {number} (user '{text.shown(fields[0])}'): rank {text.shown(fields[3])} is out of "
                "range; ranks are 1..n within each user's list; nothing written"
            )
        if not math.isfinite(score):
            written[len(scores)] = fields[4]
        users.append(fields[0])
        items.append(fields[2])
        ranks.append(rank)
        scores.append(score)
    return make_raw(str(path), users, items, ranks, scores, written)


def run_text(lists: pa.Table, tag: str) -> str:
    """TREC run lines from a ``topk``-shaped table sorted by user and rank."""
    rows = zip(*(lists.column(c).to_pylist() for c in ("user_id", "rank", "item_id", "score")), strict=True)
    return "".join(f"{u} Q0 {i} {r} {s!r} {tag}\n" for u, r, i, s in rows)


def qrels_text(pairs: pa.Table) -> str:
    """TREC qrels lines (relevance 1) from a table of distinct ``user_id, item_id`` pairs."""
    rows = zip(pairs.column("user_id").to_pylist(), pairs.column("item_id").to_pylist(), strict=True)
    return "".join(f"{u} 0 {i} 1\n" for u, i in rows)
