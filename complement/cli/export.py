"""``complement export``: a view's lists as a run file, the ground truth as qrels, the split for RecBole."""

from __future__ import annotations

import dataclasses

import typer

from ..steps.options import ExportOptions
from .common import WorkspaceOption, workspace
from .options import with_options


@with_options(ExportOptions)
def export(*, options: ExportOptions, workspace_dir: WorkspaceOption = None) -> None:
    """Write a view's top-K (--view), the qrels (--qrels) or the RecBole split (--recbole DIR).

    Run files keep the view's scores. trec and ranx tools sort by score, so in those files a score
    tied with the one above it (as a 32-bit float, as trec_eval reads it) is lowered to the next
    32-bit float below, and a view without scores gets score = 1/rank: the tools then see the
    view's own order."""
    from ..progress import message
    from ..steps import export as export_step

    given = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    result = export_step(workspace(workspace_dir), **given)  # every argument is checked before a file is written
    if options.recbole is not None:
        files = ", ".join(f"{name} ({n:,} rows)" for name, n in result.details["files"].items())
        message(f"export: wrote {files} into {options.recbole}")
    elif options.qrels:
        message(f"export: wrote {result.rows:,} {result.details['split']} qrels to {options.out}")
    else:
        message(f"export: wrote {result.rows:,} rows of view '{options.view}' to {options.out}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
