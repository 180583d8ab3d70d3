"""Writing a diagnostic's result to a file, atomically, in the format its suffix names."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from ..atomic import write_parquet, write_text
from ..errors import ComplementError

SUFFIXES = (".parquet", ".csv", ".json", ".md")


def write_result(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` (.parquet, .csv, .json or .md, a markdown table); nothing half-written is
    left behind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return write_parquet(table, path)
    if suffix in (".csv", ".json", ".md"):
        from ..cli.output import render  # plain text rendering, no typer involved

        write_text(render(table, "markdown" if suffix == ".md" else suffix[1:]), path)
        return path
    raise ComplementError(f"--out must end in {', '.join(SUFFIXES)}, not '{path.name}'")
