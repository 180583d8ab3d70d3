"""The one set of output options shared by every command that prints a table."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator
from enum import StrEnum

import pyarrow as pa

# Rows the table format shows on a terminal; csv, json and markdown print every row.
TABLE_ROWS = 1000


class Format(StrEnum):
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


def _column_widths(names: list[str], cells: list[list[str]], width: int | None) -> list[int]:
    """Each column's text width: every header whole, and the room the console has left (``width``, else
    the terminal's when stdout is one, else up to 200 columns) shared among the columns whose cells are
    wider than their header, narrowest first; the cells that still do not fit fold over lines. A table whose
    headers alone are wider than the console is laid out wider, never with a header cut off."""
    from rich.cells import cell_len

    if width is None:
        if sys.stdout.isatty():
            import shutil

            width = shutil.get_terminal_size().columns
        else:
            width = max(80, min(200, 14 * len(names)))
    headers = [cell_len(n) for n in names]
    natural = [max([h, *(cell_len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    room = width - 3 * len(names) + 1  # one space of padding each side, one rule between columns
    if sum(natural) <= room:
        return natural
    widths, extra = list(headers), max(0, room - sum(headers))
    wider = sorted((i for i in range(len(names)) if natural[i] > headers[i]), key=lambda i: natural[i] - headers[i])
    for left, i in zip(range(len(wider), 0, -1), wider, strict=True):  # the narrowest whole first, then equal shares
        grant = min(natural[i] - headers[i], extra // left)
        widths[i] += grant
        extra -= grant
    return widths


def render(table: pa.Table, fmt: Format | str | None = None, width: int | None = None) -> str:
    """Render an Arrow table as text; ``None`` means a table on a terminal and CSV otherwise.
    The table format folds long cells over lines and never truncates a header (``width``: see
    :func:`_column_widths`)."""
    if fmt is None:
        fmt = Format.table if sys.stdout.isatty() else Format.csv
    fmt = Format(fmt)
    if fmt is not Format.table:
        return "".join(chunks(table.schema, table.to_batches(), fmt))
    names = table.column_names
    rows = table.to_pylist()
    from rich.console import Console
    from rich.table import Table

    cells = [[_cell(r[n]) for n in names] for r in rows]
    widths = _column_widths(names, cells, width)
    view = Table(show_edge=False, header_style="bold")
    for n, w in zip(names, widths, strict=True):
        numeric = pa.types.is_integer(table.schema.field(n).type) or pa.types.is_floating(table.schema.field(n).type)
        view.add_column(n, justify="right" if numeric else "left", width=w, overflow="fold")
    for row in cells:
        view.add_row(*row)
    console = Console(
        file=io.StringIO(), width=sum(widths) + 3 * len(names), record=True, color_system=None, highlight=False
    )
    console.print(view)
    return console.export_text()


TRAIN_COLUMNS = {  # train's summary on a terminal: (key in the summary, header)
    "view": "view",
    "epochs_run": "epochs run",
    "best_epoch": "best epoch",
    "best_valid_recall@20": "valid Recall@20",
    "test_recall@20": "test Recall@20",
    "train_seconds": "seconds",
}


def echo_train_summary(summary: dict, fmt: Format | str | None = None) -> None:
    """``complement train``'s result: on a terminal (no ``--format``) a small table, piped one JSON line
    (what scripts read), else the whole row in ``fmt``."""
    if fmt is None and not sys.stdout.isatty():
        sys.stdout.write(json.dumps(summary) + "\n")
    elif fmt is None:
        row = {header: summary.get(key) for key, header in TRAIN_COLUMNS.items()}
        sys.stdout.write(render(pa.Table.from_pylist([row]), Format.table))
    else:
        sys.stdout.write(render(pa.Table.from_pylist([summary]), fmt))
    sys.stdout.flush()


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
