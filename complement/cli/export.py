"""``complement export``: a view's lists as a run file, the ground truth as qrels, the split for RecBole."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import typer

from ..choices import Split
from ..errors import ConfigError
from ..steps.declare import option
from .common import WorkspaceOption, workspace
from .options import with_options


@dataclass(frozen=True)
class ExportOptions:
    """What ``complement export`` writes (exactly one of view, qrels, recbole) and where."""

    view: str | None = option(None, "Export this view's top-K lists as a run file.", kind=str)
    qrels: bool = option(False, "Export the ground truth (relevance 1 per interaction) instead.", kind=bool)
    split: Split | None = option(
        None, "With --qrels: the split that is the ground truth (default: test).", choices=Split, show_default=False
    )
    recbole: Path | None = option(
        None, "Write the dataset and its split as RecBole benchmark files into this folder.", kind=Path
    )
    fmt: str | None = option(
        None,
        "trec, ranx, csv, tsv or parquet (qrels: trec or ranx); default from --out's extension.",
        flag="--format",
        kind=str,
    )
    out: Path | None = option(None, "The file to write (never inside the workspace's tables/).", kind=Path)


@with_options(ExportOptions)
def export(*, options: ExportOptions, workspace_dir: WorkspaceOption = None) -> None:
    """Write a view's top-K (--view), the qrels (--qrels) or the RecBole split (--recbole DIR).

    Run files keep the view's scores. trec and ranx tools sort by score, so in those files a score
    tied with the one above it (as a 32-bit float, as trec_eval reads it) is lowered to the next
    32-bit float below, and a view without scores gets score = 1/rank: the tools then see the
    view's own order."""
    from ..interop import export_qrels, export_recbole, export_view
    from ..progress import message

    view, qrels, split, recbole, fmt, out = dataclasses.astuple(options)

    chosen = [
        name
        for name, on in (("--view", view is not None), ("--qrels", qrels), ("--recbole", recbole is not None))
        if on
    ]
    if len(chosen) != 1:
        raise ConfigError(
            f"export takes exactly one of --view NAME, --qrels, --recbole DIR (got: {', '.join(chosen) or 'none'})"
        )
    if split is not None and not qrels:  # given at all, even as the default: --view and --recbole would ignore it
        raise ConfigError(f"--split applies to --qrels only, not to {chosen[0]}")
    if recbole is not None:
        if out is not None or fmt is not None:
            raise ConfigError("--recbole DIR writes its own files; it takes no --out or --format")
        ws = workspace(workspace_dir)
        counts = export_recbole(ws, recbole)
        message(f"export: wrote {', '.join(f'{name} ({n:,} rows)' for name, n in counts.items())} into {recbole}")
        return
    if out is None:
        raise ConfigError(f"{chosen[0]} needs --out FILE")
    ws = workspace(workspace_dir)
    if qrels:
        split = split or Split.test
        rows = export_qrels(ws, out, fmt, split=split)
        message(f"export: wrote {rows:,} {split} qrels to {out}")
    else:
        if view is None:  # unreachable: exactly one of --view, --qrels, --recbole was checked above
            raise ConfigError("export needs --view NAME")
        rows = export_view(ws, view, out, fmt)
        message(f"export: wrote {rows:,} rows of view '{view}' to {out}")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
