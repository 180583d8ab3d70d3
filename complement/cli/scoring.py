"""``complement topk`` and ``complement neighbors``: exact top-K lists and item neighbours of a view."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from .common import DeviceOption, WorkspaceOption, workspace

ViewOption = Annotated[str, typer.Option("--view", help="The view whose embeddings are scored.", show_default=False)]


def topk(
    view: ViewOption,
    k: Annotated[int, typer.Option("--k", help="List length per user.")] = 100,
    exclude: Annotated[str, typer.Option("--exclude", help="Seen items to mask: train or train+valid.")] = "train",
    device: DeviceOption = "auto",
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Exact top-K items per user (score = user · item), seen items masked, ties by item index."""
    from ..checks import integer
    from ..progress import message
    from ..scoring import write_topk
    from ..tables import check_tables, check_view_name

    integer("--k", k, minimum=1)
    check_view_name(view)
    ws = workspace(workspace_dir)
    check_tables(ws, "items", "users", "interactions", "embeddings", views=[view])
    started = time.perf_counter()
    rows = write_topk(ws, view, k=k, exclude=exclude, device=device)
    message(f"topk: wrote {rows:,} rows for view '{view}' (k={k}, exclude {exclude}) in {time.perf_counter() - started:.1f} s")


def neighbors(
    view: ViewOption,
    k: Annotated[int, typer.Option("--k", help="Neighbours per item.")] = 20,
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
    message(f"neighbors: wrote {rows:,} rows for view '{view}' (k={k}, cosine) in {time.perf_counter() - started:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("topk")(topk)
    app.command("neighbors")(neighbors)
