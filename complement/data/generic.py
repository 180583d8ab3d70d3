"""Generic CSV / TSV / Parquet interactions (``--user-col --item-col [--time-col] [--rating-col]``)
with an optional items file (``--items PATH --text-cols a,b``), and the file helpers every loader
shares: reading delimited files with clear errors (file and line number), finding files in a
folder by suffix, checking columns."""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError


class Loaded(NamedTuple):
    """What a loader returns: interactions, item fields (or ``None``) and the default text template."""

    interactions: pa.Table
    items: pa.Table | None
    template: str


PARQUET_SUFFIXES = (".parquet", ".pq")
UTF8_BOM = b"\xef\xbb\xbf"
NULL_SPELLINGS = ["", "NULL", "null", "NA", "N/A", "#N/A", "None"]


# ---- file helpers -----------------------------------------------------------------------------
def existing_path(path: str | os.PathLike[str], what: str = "dataset path") -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{what} {path} does not exist")
    return path


def absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute (against the current folder) without following its symbolic links, so that a path
    kept in a workspace's ``complement.toml`` through a link (``data -> data-v2``) reads where the link points
    when it is read, not where it pointed when the experiment was first run. ``..`` is removed lexically when
    that names the same file as the operating system's walk would; otherwise (a ``..`` after a link to another
    folder) it is kept for the system to follow."""
    joined = Path(os.path.abspath(Path(path).expanduser()))  # lexical, unlike Path.resolve
    raw = Path.cwd() / Path(path).expanduser()
    return joined if joined.resolve() == raw.resolve() else raw


def find_files(folder: Path, *suffixes: str) -> list[Path]:
    """Files directly in ``folder`` whose name ends with one of ``suffixes``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(suffixes))


def open_text(path: Path):
    """Binary stream of a file, transparently gunzipped when it ends in ``.gz``."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def first_undecodable_line(path: Path, encoding: str = "utf-8") -> int | None:
    """1-based number of the first line that is not valid ``encoding``, or ``None``."""
    with open_text(path) as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                return number
    return None


def iter_lines(path: Path, encoding: str = "utf-8"):
    """``(line_number, text)`` for each line, with a one-line error naming an undecodable line. A
    UTF-8 byte-order mark at the start is skipped (pyarrow's CSV reader skips it too), so a header or
    the first id never carries it."""
    with open_text(path) as stream:
        for number, raw in enumerate(stream, start=1):
            if number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            try:
                yield number, raw.decode(encoding).rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(f"{path}:{number}: line is not valid {encoding} text") from None


def read_delimited(
    path: Path,
    delimiter: str,
    column_names: Sequence[str] | None = None,
    column_types: dict[str, pa.DataType] | None = None,
    encoding: str = "utf-8",
    quoting: bool = True,
) -> pa.Table:
    """Read a delimited text file with pyarrow (fast), turning parse and decode errors into a
    :class:`DataError` that names the file and line."""
    import pyarrow.csv as pcsv

    bad_rows: list[int | None] = []

    def remember_bad_row(row) -> str:
        bad_rows.append(row.number)
        return "error"

    def read(source, use_threads: bool) -> pa.Table:
        options = pcsv.ReadOptions(
            column_names=list(column_names) if column_names else None,
            encoding=encoding,
            block_size=1 << 24,
            use_threads=use_threads,
        )
        parse = pcsv.ParseOptions(
            delimiter=delimiter, quote_char='"' if quoting else False, invalid_row_handler=remember_bad_row
        )
        # "NaN"/"nan" are numbers, not missing values: pipeline refuses a NaN rating instead of
        # silently treating it as unrated (pyarrow's default null spellings include them)
        convert = pcsv.ConvertOptions(
            column_types=column_types or {},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            null_values=NULL_SPELLINGS,
        )
        return pcsv.read_csv(source, read_options=options, parse_options=parse, convert_options=convert)

    try:
        table = read(path, True)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "UTF8" in text or isinstance(exc, UnicodeDecodeError):
            line = first_undecodable_line(path, "utf-8")
            raise DataError(f"{path}:{line or '?'}: line is not valid UTF-8 text") from None
        bad_rows.clear()
        try:  # single-threaded parsing knows line numbers
            read(path, False)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            pass
        where = f"{path}:{bad_rows[0]}" if bad_rows and bad_rows[0] is not None else str(path)
        raise DataError(f"{where}: cannot parse ({text})") from None
    if encoding.lower().replace("-", "") == "utf8" and any(pa.types.is_binary(t) for t in table.schema.types):
        line = first_undecodable_line(path, "utf-8")
        raise DataError(f"{path}:{line or '?'}: line is not valid UTF-8 text")
    return table


def read_table_file(path: Path) -> pa.Table:
    """A Parquet file, or a delimited text file with a header row (delimiter sniffed from the header)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(PARQUET_SUFFIXES):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return read_delimited(path, sniff_delimiter(path))


def sniff_delimiter(path: Path) -> str:
    """TAB when the header line has a TAB (``.tsv``, ``.dat``, ...), ``|`` or ``;`` when it has only
    those, else comma."""
    with open_text(path) as stream:
        header = stream.readline().decode("utf-8", errors="replace")
    for delimiter in ("\t", ",", "|", ";"):
        if delimiter in header:
            return delimiter
    return ","


def require_columns(table: pa.Table, columns: Sequence[str | None], source: Path | str) -> None:
    """A one-line error naming the missing columns and the ones found (``None``: an optional column not asked for)."""
    missing = [c for c in columns if c and c not in table.column_names]
    if missing:
        raise DataError(f"{source}: no column(s) {', '.join(missing)} (found: {', '.join(table.column_names)})")


def check_unique_ids(ids: pa.Array | pa.ChunkedArray, source: Path | str, what: str = "item") -> None:
    """Refuse ids that occur more than once: a duplicated item row would be counted twice by every
    diagnostic. The line gives how many ids, how many rows, and up to three examples. An items
    source with no rows at all (an empty or truncated file) is refused too."""
    if len(ids) == 0:
        raise DataError(f"{source}: no {what} records (an empty or truncated file?)")
    counts = pc.value_counts(ids)
    repeated = pc.greater(counts.field("counts"), 1)
    duplicated = pc.filter(counts.field("values"), repeated).to_pylist()
    if duplicated:
        times = pc.filter(counts.field("counts"), repeated).to_pylist()
        ranked = sorted(zip(duplicated, times, strict=True), key=lambda pair: (-pair[1], str(pair[0])))
        examples = ", ".join(f"'{v}'" for v, _ in ranked[:3])
        raise DataError(
            f"{source}: {len(duplicated):,} duplicate {what} ids (e.g. {examples}) on {sum(times):,} rows; "
            f"each {what} must have one row"
        )


def to_epoch_seconds(column: pa.ChunkedArray, source: str) -> pa.Array:
    """A time column as int64: integers as they are, floats truncated, timestamps and ISO
    date strings as Unix seconds."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_integer(kind):
        return pc.cast(column, pa.int64())
    if pa.types.is_floating(kind):
        return pc.cast(pc.floor(column), pa.int64())
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return pc.cast(pc.cast(column, pa.timestamp("s")), pa.int64())
    try:
        return pc.cast(pc.cast(column, pa.timestamp("s")), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise DataError(f"{source}: time values are neither numbers nor ISO dates (e.g. '{column[0]}')") from None


# ---- the generic loader -----------------------------------------------------------------------
def load(path: Path, options: dict) -> Loaded:
    """Interactions from one CSV/TSV/Parquet file with named columns, items from ``options['items']``."""
    path = existing_path(path)
    if path.is_dir():
        candidates = find_files(path, ".csv", ".tsv", ".parquet", ".csv.gz", ".tsv.gz")
        if len(candidates) != 1:
            raise DataError(
                f"{path} is a folder with {len(candidates)} CSV/TSV/Parquet files; "
                "pass --path FILE for the interactions"
            )
        path = candidates[0]
    user_col, item_col = options.get("user_col") or "user_id", options.get("item_col") or "item_id"
    time_col, rating_col = options.get("time_col"), options.get("rating_col")
    table = read_table_file(path)
    require_columns(table, [user_col, item_col, time_col, rating_col], path)
    columns = {
        "user_id": pc.cast(table.column(user_col), pa.string()),
        "item_id": pc.cast(table.column(item_col), pa.string()),
    }
    if time_col:
        columns["ts"] = to_epoch_seconds(table.column(time_col), f"{path} column {time_col}")
    if rating_col:
        try:
            columns["rating"] = pc.cast(table.column(rating_col), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise DataError(f"{path}: rating column {rating_col} is not numeric") from None
    interactions = pa.table(columns)

    items_path = options.get("items")
    if not items_path:
        return Loaded(interactions, None, "")
    items_path = existing_path(items_path, "items file")
    items = read_table_file(items_path)
    item_id_col = next((c for c in (item_col, "item_id", "id") if c in items.column_names), items.column_names[0])
    text_cols = list(options.get("text_cols") or [])
    require_columns(items, [item_id_col, *text_cols], items_path)
    if not text_cols:
        text_cols = [
            c for c in items.column_names if c != item_id_col and pa.types.is_string(items.schema.field(c).type)
        ]
    ids = pc.cast(items.column(item_id_col), pa.string())
    check_unique_ids(ids, items_path)
    out = {"item_id": ids}
    for c in text_cols:
        out[c] = items.column(c)
    if "title" not in out:
        out["title"] = (
            pc.cast(items.column(text_cols[0]), pa.string()) if text_cols else pa.nulls(len(ids), pa.string())
        )
    return Loaded(interactions, pa.table(out), ". ".join("{" + c + "}" for c in text_cols))
