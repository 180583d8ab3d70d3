"""``complement report``: one self-contained HTML page (or Markdown) of the workspace's results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..checks import comma_list
from ..choices import ReportFormat
from ..errors import ConfigError
from ..outputs import check_output_path
from ..progress import message
from ..steps import report as report_step
from .common import WorkspaceOption, comma_option, parse_ks, workspace


def report(
    workspace_dir: WorkspaceOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file (default: report.html or report.md in the workspace); never inside the workspace's "
            "tables/.",
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="html (plots inline, no network needed) or markdown (default: what --out's suffix names, "
            ".html or .md; else html).",
            show_default=False,
        ),
    ] = None,
    views: Annotated[
        str | None,
        typer.Option(
            "--views",
            help="The two views to compare, A,B (default: the experiment's first pair, or the workspace's two views "
            "when it has exactly two with top-K lists).",
            callback=comma_option("--views"),
        ),
    ] = None,
    k: Annotated[
        str | None,
        typer.Option(
            "--k",
            help="The cut-offs shown, e.g. 5,10,20 (default: the experiment's [diagnostics] k, else 5,10,20); "
            "those `complement run` did not store are computed.",
        ),
    ] = None,
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale",
            help="Report views made from inputs that changed since (another split or dataset) instead of refusing "
            "them.",
        ),
    ] = False,
    figures_dir: Annotated[
        Path | None,
        typer.Option(
            "--figures",
            help="Also write each figure as DIR/<name>.pdf and DIR/<name>.svg (needs matplotlib); not inside tables/.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the report: dataset summary, metrics, overlap, unique hits, oracle bounds, probes, fusion."""
    pair = None
    if views:
        names = comma_list("--views", views)
        if len(names) != 2:
            raise ConfigError(f"--views takes two view names, A,B — not '{views}'")
        if names[0] == names[1]:
            raise ConfigError(f"--views needs two different views, not '{views}'")
        pair = (names[0], names[1])
    ks = parse_ks(k) if k else None
    ws = workspace(workspace_dir)
    if out is not None:
        check_output_path(ws, out)
    path = report_step(
        ws,
        out,
        fmt=fmt.value if fmt is not None else None,
        pair=pair,
        ks=ks,
        allow_stale=allow_stale,
        figures_dir=figures_dir,
    ).details["path"]
    message(f"report written to {path}")
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command("report")(report)
