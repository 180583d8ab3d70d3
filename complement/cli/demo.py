"""``complement demo``: the whole pipeline on the built-in synthetic data, no data of yours needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from .. import atomic
from ..demo import run_demo
from ..progress import message
from .common import FormatOption
from .options import path_parser
from .output import Format, echo_table, render

TITLES = {
    "metrics": "Accuracy at K=20 (test split)",
    "overlap": "How different are the two views' top-20 lists?",
    "unique_hits": "Who finds the hits? (shares of hits; ln-popularity of hits found by one view only)",
    "oracle": "Oracle fusion bounds per popularity group (Recall@20)",
    "fusion_gap": "Fusion: share of the oracle gain captured",
    "probes": "Alignment probes: the source view's item vectors mapped onto the target's (mean over seeds)",
}


def demo(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Workspace folder to create or update.",
            metavar="DIR",
            parser=path_parser("DIR", "the workspace folder"),
        ),
    ] = Path("complement-demo"),
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a setting of the built-in experiment, e.g. --set dataset.users=2000."),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Run a full experiment on built-in synthetic data (ingest, embed, train, fuse, diagnose, probe) and print the
    headline results."""
    ws, tables = run_demo(directory, set_)
    chosen = Format(fmt) if fmt is not None else (Format.table if sys.stdout.isatty() else Format.csv)
    if chosen is Format.csv:
        # several tables do not make one CSV: one file per table, and stdout lists them as CSV
        folder = ws.root / "demo-results"
        listing: dict[str, list[str]] = {"table": [], "title": [], "file": []}
        for name, table in tables.items():
            path = folder / f"{name}.csv"
            atomic.write_text(render(table, Format.csv), path)
            listing["table"].append(name)
            listing["title"].append(TITLES.get(name, name))
            listing["file"].append(str(path))
        echo_table(pa.table(listing), Format.csv)
    elif chosen is Format.json:
        sys.stdout.write(
            json.dumps({name: json.loads(render(table, Format.json)) for name, table in tables.items()}, indent=1)
            + "\n"
        )
    else:
        for name, table in tables.items():
            sys.stdout.write(f"\n## {TITLES.get(name, name)}\n")
            echo_table(table, chosen)
    message(
        f"\nworkspace: {ws.root}  ·  report: {ws.root / 'report.html'}  ·  "
        f'explore: complement sql -w {directory} "SELECT * FROM topk LIMIT 5"'
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
