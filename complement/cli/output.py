"""The one set of output options shared by every command that prints a table."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from enum import Enum

import pyarrow as pa


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value[:8]) + (", …]" if len(value) > 8 else "]")
    return str(value)


def _json_value(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def render(table: pa.Table, fmt: Format | str | None = None) -> str:
    """Render an Arrow table as text; ``None`` means a table on a terminal and CSV otherwise."""
    if fmt is None:
        fmt = Format.table if sys.stdout.isatty() else Format.csv
    fmt = Format(fmt)
    names = table.column_names
    rows = table.to_pylist()
    if fmt is Format.json:
        return json.dumps([{k: _json_value(v) for k, v in r.items()} for r in rows], indent=2, default=str) + "\n"
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        for r in rows:
            writer.writerow(["" if r[n] is None else (repr(r[n]) if isinstance(r[n], float) else r[n]) for n in names])
        return buffer.getvalue()
    if fmt is Format.markdown:
        lines = ["| " + " | ".join(names) + " |", "|" + "|".join("---" for _ in names) + "|"]
        lines += ["| " + " | ".join(_cell(r[n]).replace("|", "\\|") for n in names) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    from rich.console import Console
    from rich.table import Table

    view = Table(show_edge=False, header_style="bold")
    for n in names:
        numeric = pa.types.is_integer(table.schema.field(n).type) or pa.types.is_floating(table.schema.field(n).type)
        view.add_column(n, justify="right" if numeric else "left")
    for r in rows:
        view.add_row(*(_cell(r[n]) for n in names))
    console = Console(file=io.StringIO(), width=max(80, min(200, 14 * len(names))), record=True, color_system=None)
    console.print(view)
    return console.export_text()


def echo_table(table: pa.Table, fmt: Format | str | None = None) -> None:
    sys.stdout.write(render(table, fmt))
    sys.stdout.flush()
