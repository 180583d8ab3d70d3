"""The one set of output options shared by every command that prints a table."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator
from enum import Enum

import pyarrow as pa

# Rows the table format shows on a terminal; csv, json and markdown print every row.
TABLE_ROWS = 1000


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


def _csv_value(value):
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


def chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch], fmt: Format | str) -> Iterator[str]:
    """The text of csv, json or markdown output, one piece per record batch, so a result is
    written while it is read and never held whole. ``render`` of the same rows gives the same text."""
    fmt = Format(fmt)
    names = schema.names
    if fmt is Format.json:
        # byte-identical to json.dumps(rows, indent=2): each row indented one level, ",\n" between
        first = True
        for batch in batches:
            for r in batch.to_pylist():
                item = json.dumps({k: _json_value(v) for k, v in r.items()}, indent=2, default=str)
                yield ("[\n" if first else ",\n") + "\n".join("  " + line for line in item.splitlines())
                first = False
        yield "[]\n" if first else "\n]\n"
    elif fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        for batch in batches:
            for r in batch.to_pylist():
                writer.writerow([_csv_value(r[n]) for n in names])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
    elif fmt is Format.markdown:
        yield "| " + " | ".join(names) + " |\n" + "|" + "|".join("---" for _ in names) + "|\n"
        for batch in batches:
            yield "".join(
                "| " + " | ".join(_cell(r[n]).replace("|", "\\|") for n in names) + " |\n" for r in batch.to_pylist()
            )
    else:
        raise ValueError(f"format {fmt.value} is not streamed")


def render(table: pa.Table, fmt: Format | str | None = None) -> str:
    """Render an Arrow table as text; ``None`` means a table on a terminal and CSV otherwise."""
    if fmt is None:
        fmt = Format.table if sys.stdout.isatty() else Format.csv
    fmt = Format(fmt)
    if fmt is not Format.table:
        return "".join(chunks(table.schema, table.to_batches(), fmt))
    names = table.column_names
    rows = table.to_pylist()
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


def echo_batches(
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    fmt: Format | str | None = None,
    max_table_rows: int | None = None,
) -> None:
    """Print a result as it is read. The table format (a terminal's default) shows at most
    ``max_table_rows`` rows, then says on stderr how many there were in all."""
    if fmt is None:
        fmt = Format.table if sys.stdout.isatty() else Format.csv
    fmt = Format(fmt)
    if fmt is not Format.table:
        for piece in chunks(schema, batches, fmt):
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    max_table_rows = TABLE_ROWS if max_table_rows is None else max_table_rows
    kept: list[pa.RecordBatch] = []
    shown = total = 0
    for batch in batches:
        total += batch.num_rows
        if shown < max_table_rows:
            part = batch.slice(0, max_table_rows - shown)
            kept.append(part)
            shown += part.num_rows
    echo_table(pa.Table.from_batches(kept, schema=schema), fmt)
    if total > shown:
        from ..progress import stderr

        stderr.print(
            f"showing the first {shown} of {total} rows; use --format csv or --out FILE for all of them", markup=False
        )
