"""``complement topk`` and ``complement neighbors``: exact top-K lists and item neighbours of a view;
``topk --from FILE`` imports a view's lists made elsewhere."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError
from ..steps.declare import flag_of, option
from ..steps.options import TopkOptions
from .common import DeviceOption, WorkspaceOption, workspace
from .options import number_parser, with_options

ViewOption = Annotated[str, typer.Option("--view", help="The view whose embeddings are scored.", show_default=False)]


def _column(role: str) -> Any:
    """``--user-col`` and its kin: the column of a csv, tsv or parquet list file that holds ``role``."""
    return option(None, f"With --from (csv/tsv/parquet): the {role} column.", kind=str)


@dataclass(frozen=True)
class ListImport:
    """``topk --from FILE``: how to read ranked lists made elsewhere (``interop.import_topk``)."""

    fmt: str | None = option(
        None, "With --from: trec, ranx, csv, tsv or parquet (default: from the extension).", flag="--format", kind=str
    )
    user_col: str | None = _column("user")
    item_col: str | None = _column("item")
    score_col: str | None = _column("score")
    rank_col: str | None = _column("rank")
    id_map: Path | None = option(
        None, "With --from: TSV 'entity internal_id id' mapping the file's ids to the workspace's.", kind=Path
    )
    drop_unknown: bool = option(False, "With --from: drop rows with unknown users or items.", kind=bool)


@with_options(TopkOptions, ListImport)
def topk(
    view: Annotated[
        str,
        typer.Option(
            "--view",
            help="The view whose embeddings are scored (with --from: the list view written).",
            show_default=False,
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Import ranked lists from this file instead of scoring vectors.", show_default=False
        ),
    ] = None,
    *,
    lists: ListImport,
    workspace_dir: WorkspaceOption = None,
    options: TopkOptions,
) -> None:
    """Exact top-K items per user (score = user · item), seen items masked, ties by item index.

    With --from FILE the view's lists are imported instead (a list view: no vectors), after the
    whole file is checked; ranks come from the file, else from the score (descending, ties in
    file order), else from the row order."""
    from ..checks import integer
    from ..progress import message
    from ..tables import check_new_view_name, check_tables, check_view_name

    k, exclude = options.k, options.exclude
    integer("--k", k, minimum=1)
    if source is None:
        check_view_name(view)  # scoring derives a view's own lists from its vectors
    else:
        check_new_view_name(view)  # an import writes the view anew
    ws = workspace(workspace_dir)
    check_tables(ws, "items", "users", "interactions", "embeddings", views=[view])
    started = time.perf_counter()
    from ..shards import parse

    parsed = parse(options.shard)
    if parsed is not None and source is not None:
        raise ConfigError("--shard applies to scoring vectors, not with --from FILE")
    if source is not None:
        from ..interop import Columns, import_topk

        checked = import_topk(
            ws,
            source,
            view,
            fmt=lists.fmt,
            columns=Columns(lists.user_col, lists.item_col, lists.score_col, lists.rank_col),
            id_map=lists.id_map,
            drop_unknown=lists.drop_unknown,
            k=k,
            exclude=exclude.value,
        )
        message(
            f"topk: imported {checked.table.num_rows:,} rows for {checked.users:,} users into view '{view}' "
            f"(ranks from {checked.rank_from}) in {time.perf_counter() - started:.1f} s"
        )
        return
    given = [flag_of(f) for f in dataclasses.fields(lists) if getattr(lists, f.name) not in (None, False)]
    if given:
        raise ConfigError(f"{', '.join(given)} only apply with --from FILE")
    if ws.is_list_view(view):
        from ..listview import is_fusion, list_view_error, made_by

        command = made_by(ws, view)
        if is_fusion(command):  # the fusion makes its lists again; there is no file to re-import
            remake = "its lists are remade by running that fusion again"
        else:
            remake = f"re-import it with `complement topk --view {view} --from FILE`"
        raise list_view_error(ws, view, f"it has no vectors to score; {remake}")
    from ..steps import topk as topk_step

    rows = topk_step(ws, view, options).rows
    what = f"view '{view}'" if parsed is None else f"shard {parsed[0]}/{parsed[1]} of view '{view}'"
    message(f"topk: wrote {rows:,} rows for {what} (k={k}, exclude {exclude}) in {time.perf_counter() - started:.1f} s")


def neighbors(
    view: ViewOption,
    k: Annotated[int, typer.Option("--k", help="Neighbours per item.", parser=number_parser(int))] = 20,
    device: DeviceOption = "auto",
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Exact k nearest items of every item by cosine similarity, the item itself excluded."""
    from ..checks import integer
    from ..progress import message
    from ..scoring import write_neighbors
    from ..tables import check_tables, check_view_name

    integer("--k", k, minimum=1)
    check_view_name(view)
    ws = workspace(workspace_dir)
    check_tables(ws, "items", "embeddings", views=[view])
    started = time.perf_counter()
    rows = write_neighbors(ws, view, k=k, device=device)
    message(
        f"neighbors: wrote {rows:,} rows for view '{view}' (k={k}, cosine) in {time.perf_counter() - started:.1f} s"
    )


def register(app: typer.Typer) -> None:
    app.command("topk")(topk)
    app.command("neighbors")(neighbors)
