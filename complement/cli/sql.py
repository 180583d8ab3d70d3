"""``complement sql``: ad-hoc, read-only SQL over the workspace tables, run in the sandbox
(:mod:`complement.sandbox`) and streamed to stdout or a file in record batches."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..db import stream_sql
from ..errors import ConfigError
from ..outputs import check_output_path
from .common import FormatOption, WorkspaceOption, workspace
from .options import number_parser
from .output import Format, chunks, echo_batches

# Rows per record batch read from DuckDB: output memory stays about this many rows, whatever the result's size.
ROWS_PER_BATCH = 65536
OUT_SUFFIXES = {".csv": Format.csv, ".json": Format.json, ".md": Format.markdown, ".parquet": None}


def _write_file(schema, batches, path: Path) -> int:
    """Write the batches to ``path`` atomically in the format its suffix names; return the row count."""
    from ..atomic import atomic_path

    rows = 0

    def counted():
        nonlocal rows
        for batch in batches:
            rows += batch.num_rows
            yield batch

    with atomic_path(path) as tmp:
        fmt = OUT_SUFFIXES[path.suffix.lower()]
        if fmt is None:
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for batch in counted():
                    writer.write_batch(batch)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for piece in chunks(schema, counted(), fmt):
                    handle.write(piece)
    return rows


def sql(
    query: Annotated[
        str,
        typer.Argument(
            help="SQL over the workspace tables (items, users, interactions, embeddings, topk, neighbors, probes, "
            "runs) and the stored results of `complement run` (results_NAME for results/NAME.parquet)."
        ),
    ],
    workspace_dir: WorkspaceOption = None,
    fmt: FormatOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the result to FILE.csv, .json, .md or .parquet (atomically, streamed) instead of printing it.",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Stop the query after SECONDS and exit 1.",
            show_default=False,
            parser=number_parser(float),
        ),
    ] = None,
) -> None:
    """Run read-only SQL over the workspace tables; it cannot write or read files, and statements
    that would write are refused. Results stream, so a large one is never held in memory; the
    table format shows at most 1000 rows (use --format csv or --out for all)."""
    from ..sandbox import check_timeout

    check_timeout(timeout)
    ws = workspace(workspace_dir)
    if out is not None:
        if out.suffix.lower() not in OUT_SUFFIXES:
            raise ConfigError(f"--out must end in {', '.join(OUT_SUFFIXES)}, not '{out.name}'")
        if fmt is not None:
            raise ConfigError("--out takes the format from the file's suffix; drop --format")
        check_output_path(ws, out)
    with stream_sql(ws, query, timeout=timeout, rows_per_batch=ROWS_PER_BATCH) as (schema, batches):
        if out is None:
            echo_batches(schema, batches, fmt)
            return
        rows = _write_file(schema, batches, out)
    typer.echo(f"wrote {rows} rows to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)
