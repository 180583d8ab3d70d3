"""``complement fuse``: fuse two views into a new view (score, rrf, concat; gate and ranker fit on the valid split)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DeviceOption, WorkspaceOption, workspace


def fuse(
    views: Annotated[
        str, typer.Option("--views", help="The two source views, e.g. lightgcn,semantic.", show_default=False)
    ],
    method: Annotated[str, typer.Option("--method", help="score, rrf, concat, gate or ranker.", show_default=False)],
    view: Annotated[str, typer.Option("--view", help="Name of the fused view to write.", show_default=False)],
    weight: Annotated[
        float | None,
        typer.Option(
            "--weight",
            help="score: weight w of the first view in w*A + (1-w)*B (default: tuned on validation Recall@20).",
            show_default=False,
        ),
    ] = None,
    norm: Annotated[str, typer.Option("--norm", help="score: per-user standardisation, zscore or minmax.")] = "zscore",
    rrf_k: Annotated[float, typer.Option("--rrf-k", help="rrf: the constant k in 1/(k + rank).")] = 60.0,
    k: Annotated[int, typer.Option("--k", help="List length per user.")] = 100,
    exclude: Annotated[str, typer.Option("--exclude", help="Seen items to mask: train or train+valid.")] = "train",
    device: DeviceOption = "auto",
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Fuse two views with user and item vectors into a new view with its own topk.

    score, rrf and concat need no training; gate and ranker fit on the valid split."""
    from ..checks import finite, integer
    from ..fusion import fuse as fuse_views
    from ..tables import check_tables, check_view_name

    finite("--weight", weight, minimum=0.0, maximum=1.0)
    finite("--rrf-k", rrf_k, minimum=0.0)
    integer("--k", k, minimum=1)
    check_view_name(view)
    ws = workspace(workspace_dir)
    check_tables(ws, "items", "users", "interactions", "embeddings", views=[v.strip() for v in views.split(",")])
    fuse_views(
        ws,
        views,
        method,
        view,
        weight=weight,
        norm=norm,
        rrf_k=rrf_k,
        k=k,
        exclude=exclude,
        device=device,
    )


def register(app: typer.Typer) -> None:
    app.command("fuse")(fuse)
