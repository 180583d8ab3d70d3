"""Progress bars and messages on stderr (stdout carries data only)."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def quiet() -> bool:
    return os.environ.get("COMPLEMENT_QUIET", "") not in ("", "0")


def message(text: str) -> None:
    """A line for the user on stderr."""
    if not quiet():
        stderr.print(text, markup=False) if "[" in text else stderr.print(text)


def progress(*extra_columns, transient: bool = False) -> Progress:
    """A rich progress bar on stderr; disabled when stderr is not a terminal or COMPLEMENT_QUIET is set."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=transient,
        disable=quiet() or not sys.stderr.isatty(),
    )
