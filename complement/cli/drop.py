"""``complement drop``: remove views from a workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import WorkspaceOption, workspace


def drop(
    views: Annotated[
        list[str],
        typer.Argument(help="The views to remove.", metavar="VIEW", show_default=False),
    ],
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Remove views: their vectors, top-K lists, neighbour lists and staged shards, in one commit.

    Every name is checked before anything is removed. The runs table keeps the views' rows; results
    made from a dropped view (a fusion, a probe, a model trained on text vectors) are stale from then
    on, and a command that writes a view of another kind under the name (train into a name that holds
    text vectors, say) is refused until the name is dropped."""
    from ..progress import message
    from ..steps import drop as drop_views

    result = drop_views(workspace(workspace_dir), views)
    for view, tables in result.details["dropped"].items():
        message(f"drop: removed view '{view}' ({', '.join(tables)})")


def register(app: typer.Typer) -> None:
    app.command("drop")(drop)
