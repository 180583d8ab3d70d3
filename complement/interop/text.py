"""The text of a list file (TREC run, ranx JSON, CSV/TSV lists, ``--id-map``): UTF-8, or one line saying
that the file is not UTF-8 text, naming the line and, when its first bytes tell, what the file is instead
(UTF-16 text, a gzip or zip archive, a Parquet file). A UTF-8 byte-order mark at the start is skipped, as
pyarrow's CSV reader skips it."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from ..errors import DataError

UTF8_BOM = b"\xef\xbb\xbf"
#: what a file's first bytes say it is, when it is not UTF-8 text
SIGNATURES = (
    (b"\xff\xfe", "it starts with a UTF-16 byte-order mark"),
    (b"\xfe\xff", "it starts with a UTF-16 byte-order mark"),
    (b"\x1f\x8b", "it looks gzip-compressed; unpack it first"),
    (b"PK\x03\x04", "it looks like a zip archive; unpack it first"),
    (b"PAR1", "it looks like a Parquet file; pass --format parquet"),
)


def shown(value: object, width: int = 60) -> str:
    """``value`` as text for a one-line message: a character that is not printable (a newline, a NUL)
    escaped as Python writes it, cut to ``width`` characters."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return out if len(out) <= width else out[:width] + "..."


def _head(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(8)


def not_utf8(path: Path | str, line: int | None, head: bytes = b"", what: str = "") -> DataError:
    """``{what}{path}: not UTF-8 text (line N; it looks like ...); save it as UTF-8``."""
    why = next((why for signature, why in SIGNATURES if head.startswith(signature)), None)
    detail = "; ".join(x for x in (f"line {line}" if line else None, why) if x)
    return DataError(f"{what}{path}: not UTF-8 text{f' ({detail})' if detail else ''}; save it as UTF-8")


def _nul(path: Path | str, line: int, what: str = "") -> DataError:
    return DataError(
        f"{what}{path}: not a text file (line {line} has a NUL byte: binary data, or UTF-16 text?); "
        "save it as UTF-8 text"
    )


def lines(path: Path, what: str = "") -> Generator[tuple[int, str], None, None]:
    """``(line_number, text)`` for each line, without its line ending; a line that is not UTF-8, or that
    holds a NUL byte (no text file does), ends it with a one-line :class:`DataError`."""
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if number == 1:
                raw = raw.removeprefix(UTF8_BOM)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise not_utf8(path, number, _head(path), what) from None
            if "\x00" in text:
                raise _nul(path, number, what)
            yield number, text.rstrip("\r\n")


def first_line(path: Path, what: str = "") -> tuple[int, str] | None:
    """The number and text of the first line that is not blank, or ``None`` for a file of blank lines."""
    found = lines(path, what)
    try:
        return next(((n, text) for n, text in found if text.strip()), None)
    finally:
        found.close()


def read_text(path: Path, what: str = "") -> str:
    """The whole file as text (checked as :func:`lines` checks each line)."""
    data = Path(path).read_bytes().removeprefix(UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, data.count(b"\n", 0, exc.start) + 1, data[:8], what) from None
    if (nul := text.find("\x00")) >= 0:
        raise _nul(path, text.count("\n", 0, nul) + 1, what)
    return text


def first_undecodable_line(path: Path) -> int | None:
    """The 1-based number of the first line that is not UTF-8, or ``None``."""
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def utf8_error(path: Path, what: str = "") -> DataError:
    """The error for a file a reader (pyarrow's CSV) found not to be UTF-8."""
    return not_utf8(path, first_undecodable_line(path), _head(path), what)


def line_number(path: Path, text: str, after: int) -> int | None:
    """The number of the first line after line ``after`` that reads ``text`` (a row pyarrow refused)."""
    for number, line in lines(path):
        if number > after and line == text:
            return number
    return None
