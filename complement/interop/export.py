"""Exports: a view's top-K as a run file, the ground truth as qrels, the split as RecBole atomic files."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from ..atomic import atomic_path, write_parquet, write_text
from ..errors import ConfigError, WorkspaceError, did_you_mean
from ..progress import message
from ..workspace import Workspace
from . import ranx, trec
from .formats import QRELS_EXTENSIONS, QRELS_WRITERS, RUN_WRITERS, format_of
from .paths import check_out_path

SPLITS = ("train", "valid", "test")


def _view_lists(ws: Workspace, view: str) -> pa.Table:
    ws.require("topk")
    have = ws.parts("topk")
    if view not in have:
        raise WorkspaceError(
            f"view '{view}' is not in the 'topk' table{did_you_mean(view, have)} (views: {', '.join(have) or 'none'})"
        )
    return ws.query(
        "SELECT user_id, item_id, rank, score FROM topk WHERE view = $v ORDER BY user_id, rank", {"v": view}
    )


def run_scores(lists: pa.Table) -> tuple[pa.Table, str | None]:
    """The lists with scores that order them as their ranks do, and a note of what was changed.

    Tools like trec_eval and ranx sort by score, so a score that ties with (or exceeds) the one
    above it in its list is lowered to the next 32-bit float below it: trec_eval (and so
    pytrec_eval and ir_measures) keeps scores as 32-bit floats, where scores distinct only in
    float64 tie. When a view has no scores at all (rank-only imports), score = 1 / rank."""
    import numpy as np

    score = lists.column("score")
    ranks = lists.column("rank").to_numpy().astype(np.float64)
    if score.null_count:
        return lists.set_column(lists.column_names.index("score"), "score", pa.array(1.0 / ranks)), (
            "has lists without scores; wrote score = 1/rank"
        )
    values = score.to_numpy().astype(np.float64)
    users = lists.column("user_id").to_numpy(zero_copy_only=False)
    same_user = np.zeros(len(values), dtype=bool)
    same_user[1:] = users[1:] == users[:-1]
    as32 = values.astype(np.float32)
    bad = np.flatnonzero(same_user[1:] & (as32[1:] >= as32[:-1])) + 1
    if len(bad) == 0:
        return lists, None
    values = values.copy()
    lowered = 0
    for row in range(bad[0], len(values)):  # sequential: lowering one score can make the next tie
        if same_user[row] and np.float32(values[row]) >= np.float32(values[row - 1]):
            values[row] = float(np.nextafter(np.float32(values[row - 1]), np.float32(-np.inf)))
            lowered += 1
    plural = "s" if lowered != 1 else ""
    note = (
        f"had {lowered:,} score{plural} tied (as 32-bit floats, as trec_eval reads them) with the one above in "
        "its list; each was lowered to the next 32-bit float below"
    )
    return lists.set_column(lists.column_names.index("score"), "score", pa.array(values)), note


def export_view(ws: Workspace, view: str, out: str | os.PathLike, fmt: str | None = None) -> int:
    """Write ``view``'s top-K lists to ``out`` as a run file (trec, ranx, csv, tsv or parquet)."""
    target = check_out_path(ws, Path(out))
    fmt = format_of(target, fmt, RUN_WRITERS)
    lists = _view_lists(ws, view)
    if fmt in ("trec", "ranx"):
        lists, note = run_scores(lists)
        if note:
            message(f"export: view '{view}' {note}, so tools that sort by score keep its order")
    if fmt == "trec":
        write_text(trec.run_text(lists, view), target)
    elif fmt == "ranx":
        write_text(ranx.run_text(lists), target)
    elif fmt == "parquet":
        write_parquet(lists.select(["user_id", "item_id", "rank", "score"]), target)
    else:
        from pyarrow import csv

        with atomic_path(target) as tmp:
            csv.write_csv(
                lists.select(["user_id", "item_id", "rank", "score"]),
                tmp,
                write_options=csv.WriteOptions(delimiter="," if fmt == "csv" else "\t", quoting_style="needed"),
            )
    return lists.num_rows


def export_qrels(ws: Workspace, out: str | os.PathLike, fmt: str | None = None, split: str = "test") -> int:
    """Write the distinct (user, item) pairs of ``split`` as qrels (relevance 1), trec or ranx."""
    target = check_out_path(ws, Path(out))
    fmt = format_of(target, fmt, QRELS_WRITERS, QRELS_EXTENSIONS)
    if split not in SPLITS:
        raise ConfigError(f"--split must be one of {', '.join(SPLITS)}, not '{split}'")
    ws.require("interactions")
    pairs = ws.query(
        "SELECT DISTINCT user_id, item_id FROM interactions WHERE split = $s ORDER BY user_id, item_id", {"s": split}
    )
    write_text(trec.qrels_text(pairs) if fmt == "trec" else ranx.qrels_text(pairs), target)
    return pairs.num_rows
