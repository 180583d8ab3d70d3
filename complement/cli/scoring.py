"""``complement topk`` and ``complement neighbors``: exact top-K lists and item neighbours of a view;
``topk --from FILE`` imports a view's lists made elsewhere."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer

from ..steps.options import ListImport, TopkOptions
from .common import DeviceOption, WorkspaceOption, workspace
from .options import number_parser, with_options

ViewOption = Annotated[str, typer.Option("--view", help="The view whose embeddings are scored.", show_default=False)]


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
    from ..interop.lists import counted
    from ..progress import message
    from ..shards import parse
    from ..steps import topk as topk_step

    given = {f.name: getattr(lists, f.name) for f in dataclasses.fields(lists)}
    result = topk_step(workspace(workspace_dir), view, options, source=source, **given)
    if source is not None:
        d = result.details
        message(
            f"topk: imported {counted(result.rows, 'row')} for {counted(d['users'], 'user')} into view '{view}' "
            f"(ranks from {d['rank_from']}) in {result.seconds:.1f} s"
        )
        return
    parsed = parse(options.shard)
    what = f"view '{view}'" if parsed is None else f"shard {parsed[0]}/{parsed[1]} of view '{view}'"
    k, exclude = options.k, options.exclude
    message(f"topk: wrote {result.rows:,} rows for {what} (k={k}, exclude {exclude}) in {result.seconds:.1f} s")


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
    from ..tables import check_view_name

    integer("--k", k, minimum=1)
    check_view_name(view)
    ws = workspace(workspace_dir)
    started = time.perf_counter()
    rows = write_neighbors(ws, view, k=k, device=device)
    message(
        f"neighbors: wrote {rows:,} rows for view '{view}' (k={k}, cosine) in {time.perf_counter() - started:.1f} s"
    )


def register(app: typer.Typer) -> None:
    app.command("topk")(topk)
    app.command("neighbors")(neighbors)
