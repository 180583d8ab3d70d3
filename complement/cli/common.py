"""Options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..workspace import ENV_VAR, Workspace
from .output import Format

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option(
        "--workspace",
        "-w",
        envvar=ENV_VAR,
        help="Workspace folder (default: the current directory).",
        show_default=False,
    ),
]

FormatOption = Annotated[
    Optional[Format],
    typer.Option("--format", "-f", help="Output format (default: table on a terminal, csv otherwise).", show_default=False),
]

DeviceOption = Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")]


def workspace(path: Optional[Path]) -> Workspace:
    return Workspace.open(path)
