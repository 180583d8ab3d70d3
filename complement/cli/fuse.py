"""``complement fuse``: fuse two views into a new view (score, rrf, concat; gate, ranker, cca fit on valid; ranker
takes more than two)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..choices import FuseMethod
from ..steps.options import FuseOptions
from .common import WorkspaceOption, comma_option, workspace
from .options import with_options


@with_options(FuseOptions)
def fuse(
    views: Annotated[
        str,
        typer.Option(
            "--views",
            help="The two source views, e.g. lightgcn,sem (ranker: two or more, e.g. fusion,lightgcn,sem).",
            show_default=False,
            callback=comma_option("--views"),
        ),
    ],
    method: Annotated[FuseMethod, typer.Option("--method", help="How to fuse.", show_default=False)],
    view: Annotated[str, typer.Option("--view", help="Name of the fused view to write.", show_default=False)],
    workspace_dir: WorkspaceOption = None,
    *,
    options: FuseOptions,
) -> None:
    """Fuse two views into a new view with its own topk.

    score, rrf and concat need no training; gate, ranker and cca (shared CCA subspace + private residuals) fit on
    the valid split. ranker also fuses three or more views (the union of their top-20 lists). Every method reads
    the views' user and item vectors; score and rrf also fuse a list view (imported, or fused from lists) by the
    two views' stored lists."""
    from ..checks import finite, integer
    from ..steps import fuse as fuse_step
    from ..tables import check_new_view_name

    finite("--weight", options.weight, minimum=0.0, maximum=1.0)
    finite("--rrf-k", options.rrf_k, minimum=0.0)
    integer("--k", options.k, minimum=1)
    check_new_view_name(view)
    fuse_step(workspace(workspace_dir), views, method, view, options)  # the library checks the tables it reads


def register(app: typer.Typer) -> None:
    app.command("fuse")(fuse)
