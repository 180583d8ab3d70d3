"""``complement export``: a view's lists as a run file, the ground truth as qrels, the split for RecBole."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..choices import Split
from ..errors import ConfigError
from .common import WorkspaceOption, workspace


def export(
    view: Annotated[
        str | None, typer.Option("--view", help="Export this view's top-K lists as a run file.", show_default=False)
    ] = None,
    qrels: Annotated[
        bool, typer.Option("--qrels", help="Export the ground truth (relevance 1 per interaction) instead.")
    ] = False,
    split: Annotated[
        Split, typer.Option("--split", help="With --qrels: the split that is the ground truth.")
    ] = Split.test,
    recbole: Annotated[
        Path | None,
        typer.Option(
            "--recbole",
            help="Write the dataset and its split as RecBole benchmark files into this folder.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="trec, ranx, csv, tsv or parquet (qrels: trec or ranx); default from --out's extension.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The file to write (never inside the workspace's tables/).", show_default=False),
    ] = None,
    workspace_dir: WorkspaceOption = None,
) -> None:
    """Write a view's top-K (--view), the qrels (--qrels) or the RecBole split (--recbole DIR).

    Run files keep the view's scores. trec and ranx tools sort by score, so in those files a score
    tied with the one above it (as a 32-bit float, as trec_eval reads it) is lowered to the next
    32-bit float below, and a view without scores gets score = 1/rank: the tools then see the
    view's own order."""
    from ..interop import export_qrels, export_recbole, export_view
    from ..progress import message

    chosen = [
        name
        for name, on in (("--view", view is not None), ("--qrels", qrels), ("--recbole", recbole is not None))
        if on
    ]
    if len(chosen) != 1:
        raise ConfigError(
            f"export takes exactly one of --view NAME, --qrels, --recbole DIR (got: {', '.join(chosen) or 'none'})"
        )
    if recbole is not None:
        if out is not None or fmt is not None:
            raise ConfigError("--recbole DIR writes its own files; it takes no --out or --format")
        ws = workspace(workspace_dir)
        counts = export_recbole(ws, recbole)
        message(f"export: wrote {', '.join(f'{name} ({n:,} rows)' for name, n in counts.items())} into {recbole}")
        return
    if out is None:
        raise ConfigError(f"{chosen[0]} needs --out FILE")
    if split != "test" and not qrels:
        raise ConfigError("--split applies to --qrels only")
    ws = workspace(workspace_dir)
    if qrels:
        rows = export_qrels(ws, out, fmt, split=split)
        message(f"export: wrote {rows:,} {split} qrels to {out}")
    else:
        if view is None:  # unreachable: exactly one of --view, --qrels, --recbole was checked above
            raise ConfigError("export needs --view NAME")
        rows = export_view(ws, view, out, fmt)
        message(f"export: wrote {rows:,} rows of view '{view}' to {out}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
