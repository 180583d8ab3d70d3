"""``import_topk``: a ranked-list file becomes a view's ``topk`` part (a list view, no vectors)."""

from __future__ import annotations

import os
import shlex
from dataclasses import astuple
from pathlib import Path

from ..checks import file_problem
from ..errors import DataError
from ..progress import message
from ..runs import RunRecord, recorded
from ..scoring.steps import DEFAULT_EXCLUDE, exclude_splits
from ..tables import check_new_view_name
from ..viewkind import IMPORTED_LISTS, check_writable
from ..workspace import Workspace
from .formats import format_of, read_lists
from .lists import Checked, check_lists, counted, read_id_map
from .tabular import Columns

DEFAULT_MAX_LENGTH = 100


def import_topk(
    ws: Workspace,
    path: str | os.PathLike,
    view: str,
    *,
    fmt: str | None = None,
    columns: Columns | None = None,
    id_map: str | os.PathLike | None = None,
    drop_unknown: bool = False,
    k: int = DEFAULT_MAX_LENGTH,
    exclude: str = DEFAULT_EXCLUDE,
) -> Checked:
    """Read the lists in ``path`` (TREC run, ranx JSON, CSV/TSV/Parquet), check the whole file against
    the workspace, and write them as part ``view`` of ``topk``. A view of another kind (vectors, a trained
    model, a fusion) is refused (:mod:`complement.viewkind`); vectors of ``view`` that name no command are
    removed, since they would disagree with the lists.

    Lists may hold at most ``k`` items. Items of the ``exclude`` splits in a list are kept and
    reported (``check_no_seen_items`` names them). Nothing is written when a check fails."""
    check_new_view_name(view)
    path = Path(path)
    splits = exclude_splits(exclude)
    if k < 1:
        raise DataError(f"--k must be at least 1, got {k}")
    if (problem := file_problem(path)) is not None:
        raise DataError(f"lists file {path} {problem}")
    fmt = format_of(path, fmt)
    ws.require("items", "users", "interactions")
    check_writable(ws, view, IMPORTED_LISTS, "complement topk --from")
    mapping = read_id_map(Path(id_map)) if id_map is not None else None
    raw = read_lists(path, fmt, columns or Columns())
    masked = ws.query(
        "SELECT DISTINCT user_id, item_id FROM interactions WHERE list_contains($s, split)", {"s": list(splits)}
    )
    checked = check_lists(
        raw,
        view,
        list(ws.user_ids()),
        list(ws.item_ids()),
        masked,
        max_length=k,
        id_map=mapping,
        drop_unknown=drop_unknown,
    )
    params = {
        "source": str(path.resolve()),
        "format": fmt,
        "k": k,
        "exclude": exclude,
        "rank_from": checked.rank_from,
        "id_map": str(Path(id_map).resolve()) if id_map is not None else None,
        "drop_unknown": drop_unknown,
    }
    # the lists were made against this workspace's split and ids: a new split makes them stale
    record_in = RunRecord(
        step="import-topk",
        view=view,
        params=params,
        inputs=["interactions", "items#ids", "users#ids"],
        made_by=import_command(view, path, fmt, columns, id_map, drop_unknown, k, exclude),
    )
    with recorded(ws, record_in) as rec:
        had_vectors = view in ws.parts("embeddings")
        if had_vectors:
            ws.delete_part("embeddings", view)  # its vectors would disagree with the imported lists
        ws.write_table("topk", checked.table, part=view)
        rec.rows = checked.table.num_rows
        rec.metrics = {"users": checked.users, "dropped_rows": checked.dropped, "masked_pairs": checked.masked_pairs}
    if had_vectors:
        message(f"import: removed the vectors of view '{view}'; they would disagree with the imported lists")
    if checked.dropped:
        message(f"import: dropped {checked.dropped:,} rows with unknown users or items (--drop-unknown)")
    for note in coverage_notes(ws, checked, path):
        message(note)
    if checked.masked_pairs:
        message(
            f"import: {counted(checked.masked_pairs, 'listed item')} {'is a' if checked.masked_pairs == 1 else 'are'} "
            f"masked ({exclude}) {'interaction' if checked.masked_pairs == 1 else 'interactions'} of their user "
            f"(e.g. {', '.join(checked.masked_examples)}); `complement diagnose --sql check_no_seen_items "
            f"-p views {shlex.quote(view)} -w {shlex.quote(str(ws.root))}` names them all"
        )
    return checked


def coverage_notes(ws: Workspace, checked: Checked, path: Path) -> list[str]:
    """What a user should know about lists that were accepted: users with test items who have no list (the
    diagnostics count them as having no hits), and scores that are all equal (a qrels file reads so)."""
    import pyarrow.compute as pc

    notes = []
    evaluated = ws.query("SELECT DISTINCT user_id FROM interactions WHERE split = 'test'").column(0)
    missing = len(evaluated) - int(pc.sum(pc.is_in(evaluated, checked.table.column("user_id").unique())).as_py() or 0)
    if missing:
        notes.append(
            f"import: {counted(missing, 'user')} of the {len(evaluated):,} with test items "
            f"{'has' if missing == 1 else 'have'} no list in {path.name}; the diagnostics count them as having no "
            "hits"
        )
    score = checked.table.column("score")
    if checked.rank_from == "score" and score.null_count == 0 and len(score):
        low, high = pc.min_max(score).values()
        value = low.as_py()
        what = None
        if value == high.as_py() and len(score) > checked.users:
            what = f"every score in {path.name} is {value:g}, so the ranks are the file's order"
        elif value == high.as_py() and checked.users > 1 and float(value).is_integer():  # a relevance label
            what = f"every list in {path.name} holds one item, each scored {value:g}"
        if what:
            notes.append(
                f"import: {what}; a qrels file (relevance labels, not scores) reads like this: check that it is a run"
            )
    return notes


def import_command(
    view: str,
    path: Path,
    fmt: str | None,
    columns: Columns | None,
    id_map: str | os.PathLike | None,
    drop_unknown: bool,
    k: int,
    exclude: str,
) -> str:
    """The command that imports the same lists again (the view's ``made_by``, named when they go stale):
    every option given that changes what is read or kept."""
    words = ["complement", "topk", "--view", view, "--from", str(path)]
    if fmt:
        words += ["--format", fmt]
    for role, name in zip(("user", "item", "score", "rank"), astuple(columns or Columns()), strict=True):
        if name is not None:
            words += [f"--{role}-col", str(name)]
    if id_map is not None:
        words += ["--id-map", str(id_map)]
    if drop_unknown:
        words.append("--drop-unknown")
    if k != DEFAULT_MAX_LENGTH:
        words += ["--k", str(k)]
    if exclude != DEFAULT_EXCLUDE:
        words += ["--exclude", exclude]
    return shlex.join(words)
