"""``complement run``: bring the workspace up to date with a declared experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..checks import ascii_digits, comma_list
from ..steps import run as run_step
from .common import FormatOption, WorkspaceOption, comma_option, workspace
from .options import path_parser
from .output import echo_table


def run(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Experiment file (default: the workspace's complement.toml).",
            metavar="FILE",
            parser=path_parser("FILE", "the experiment file"),
        ),
    ] = None,
    workspace_dir: WorkspaceOption = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting, e.g. --set split.seed=7 (repeatable).")
    ] = None,
    force: Annotated[
        list[str] | None,
        typer.Option("--force", help="Re-run a step (id, kind or prefix) even if up to date (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan (what would run, what is up to date) and exit.")
    ] = False,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds",
            help="Repeat the stochastic steps for these seeds, e.g. 1,2,3.",
            callback=comma_option("--seeds", ascii_digits, "comma-separated integers 0 or more, e.g. 1,2,3"),
        ),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Run the experiment's steps in dependency order, skipping those whose inputs and settings are unchanged."""
    ws = workspace(workspace_dir)
    path = file or ws.config_path
    overrides = list(set_ or [])
    if seeds:
        parts = comma_list("--seeds", seeds)  # read by the parser already (comma_option)
        overrides.append(f"run.seeds=[{','.join(parts)}]")
    result = run_step(ws, path, overrides=overrides, force=force, dry_run=dry_run)
    if dry_run:
        echo_table(result.table(), fmt)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
