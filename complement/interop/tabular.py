"""CSV, TSV and Parquet lists as LensKit, Elliot (``save_recs``), Cornac or implicit write them.

Columns are found by name: the ``--user-col``/``--item-col``/``--score-col``/``--rank-col`` given,
else the first of :data:`CANDIDATES` present (LensKit: ``user, item, score, rank``). A CSV/TSV
whose first line names none of :data:`CANDIDATES`, when no ``--*-col`` gives a name, is read as
headerless, with columns ``user, item[, score[, rank]]`` by position (Elliot's ``save_recs`` writes
``user TAB item TAB score``); in a headerless file ``--*-col`` is a 1-based column number.

Every way a file can fail to give a user and an item column ends in one line saying what was read:
a first line of one column (another delimiter than the extension says, named when it shows), a
column named twice, a row with more or fewer fields than the first line (by line number), text that
is not UTF-8."""

from __future__ import annotations

import csv as stdcsv
from dataclasses import astuple, dataclass
from pathlib import Path

import pyarrow as pa

from ..checks import ascii_digits
from ..errors import DataError
from . import text
from .raw import RawLists, make_raw

CANDIDATES: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "user", "userId", "uid", "qid"),
    "item": ("item_id", "item", "itemId", "iid", "docno"),
    "score": ("score", "prediction", "pred", "rating"),
    "rank": ("rank",),
}
HEADERLESS = ("user", "item", "score", "rank")
#: what a delimited file that is not comma- or tab-separated may be separated by instead
OTHER_DELIMITERS = {",": "comma", "\t": "tab", ";": "';'", "|": "'|'", " ": "space"}
SHOWN = 60  # characters of a line quoted in a message


@dataclass(frozen=True)
class Columns:
    """Column names (or 1-based positions in a headerless file) chosen on the command line."""

    user: str | None = None
    item: str | None = None
    score: str | None = None
    rank: str | None = None


def _shown(names: list[str]) -> str:
    return ", ".join(text.shown(n) if n.strip() else repr(n) for n in names)


def _quoted(line: str) -> str:
    return f"'{text.shown(line, SHOWN)}'"


def _pick(role: str, given: str | None, names: list[str], source: str, required: bool, hint: str = "") -> str | None:
    if given is not None:
        if given in names:
            if names.count(given) > 1:
                raise DataError(f"{source}: the header names column '{text.shown(given)}' {names.count(given)} times")
            return given
        if ascii_digits(given):
            hint = "; a column number applies only to a file without a header line"
        raise DataError(f"{source}: no column '{text.shown(given)}' for --{role}-col (columns: {_shown(names)}){hint}")
    found = next((c for c in CANDIDATES[role] if c in names), None)
    if found is None and required:
        raise DataError(
            f"{source}: no {role} column (looked for {', '.join(CANDIDATES[role])}; columns: {_shown(names)}); "
            f"name it with --{role}-col{hint}"
        )
    if found is not None and names.count(found) > 1:
        raise DataError(f"{source}: the header names column '{text.shown(found)}' {names.count(found)} times")
    return found


def _positions(columns: Columns, width: int, source: str) -> dict[str, str]:
    """The roles of a headerless file's columns ``column1..columnN``: the numbers given, the others by
    position (user, item, score, rank) where that column is not given to another role."""
    given: dict[str, int] = {}
    for role in HEADERLESS:
        number = getattr(columns, role)
        if number is None:
            continue
        if not 1 <= int(number) <= width:
            raise DataError(
                f"{source}: no column {number} for --{role}-col (the file has no header line and {width} columns)"
            )
        given[role] = int(number)
    roles = {}
    for position, role in enumerate(HEADERLESS, start=1):
        if role in given:
            roles[role] = f"column{given[role]}"
        elif position <= width and position not in given.values():
            roles[role] = f"column{position}"
    for role in ("user", "item"):
        if role not in roles:
            raise DataError(
                f"{source}: no {role} column (the file has no header line and {width} columns, and column "
                f"{HEADERLESS.index(role) + 1} is given to another role); name it with --{role}-col"
            )
    return roles


def _select(
    table: pa.Table, columns: Columns, source: str, *, headerless: bool = False, first: str = "", hint: str = ""
) -> RawLists:
    names = table.column_names
    if headerless:
        roles = _positions(columns, len(names), source)
        for role in ("score", "rank"):  # a header naming no known column was read as the first row
            value = table.column(roles[role])[0].as_py() if role in roles and table.num_rows else None
            if value is not None and not _is_number(value):
                raise DataError(
                    f"{source}: the first line {_quoted(first)} names no user column (looked for "
                    f"{', '.join(CANDIDATES['user'])}), so it was read as a row, whose {role} "
                    f"'{text.shown(value)}' is not a number; if it is a header, name its columns with --user-col "
                    "and --item-col"
                )
    else:
        picked = {
            role: _pick(role, getattr(columns, role), names, source, role in ("user", "item"), hint)
            for role in HEADERLESS
        }
        roles = {role: name for role, name in picked.items() if name is not None}
    if table.num_rows and any(table.column(roles[r]).null_count for r in ("user", "item")):
        raise DataError(f"{source}: some rows have no user or item id")
    ranks = table.column(roles["rank"]) if roles.get("rank") else None
    scores = table.column(roles["score"]) if roles.get("score") else None
    for name, column in (("rank", ranks), ("score", scores)):
        if column is not None and column.null_count:
            raise DataError(f"{source}: {column.null_count} rows have an empty {name}")
    raw = make_raw(
        source,
        table.column(roles["user"]).combine_chunks(),
        table.column(roles["item"]).combine_chunks(),
        None if ranks is None else ranks.combine_chunks(),
        None if scores is None else scores.combine_chunks(),
    )
    raw.first_row_read_as_data = headerless
    return raw


def _is_number(value: object) -> bool:
    try:
        float(str(value))
        return True
    except ValueError:
        return False


def _as_read(path: Path, delimiter: str) -> str:
    """``CSV (comma-separated, as its extension says)`` and the like: how the file was read."""
    kind, spelled, suffixes = ("TSV", "tab", (".tsv", ".tab")) if delimiter == "\t" else ("CSV", "comma", (".csv",))
    said = ", as its extension says" if path.suffix.lower() in suffixes else ""
    return f"{kind} ({spelled}-separated{said})"


def _delimiter_hint(line: str, delimiter: str) -> str:
    """What separates ``line`` instead of ``delimiter``, and what to do about it; empty when nothing shows."""
    counts = {d: len(line.split(d)) for d in OTHER_DELIMITERS if d != delimiter}
    counts[" "] = len(line.split())
    best = max(counts, key=lambda d: counts[d])
    if counts[best] < 2:
        return ""
    if best == "," or best == "\t":
        return f"; it looks {OTHER_DELIMITERS[best]}-separated: pass --format {'csv' if best == ',' else 'tsv'}"
    if best == " " and counts[best] == 6:
        return "; it looks like a TREC run ('qid Q0 docno rank score tag'): pass --format trec"
    return (
        f"; it looks {OTHER_DELIMITERS[best]}-separated: complement reads comma-separated (csv) or tab-separated "
        "(tsv) lists; convert it"
    )


def read_delimited(path: Path, delimiter: str, columns: Columns) -> RawLists:
    from pyarrow import csv

    found = text.first_line(path)
    if found is None:
        return make_raw(str(path), [], [])
    number, first = found
    try:
        header = [h.strip() for h in next(stdcsv.reader([first], delimiter=delimiter))]
    except (stdcsv.Error, StopIteration):
        header = first.split(delimiter)
    if len(header) < 2:
        raise DataError(
            f"{path}: read as {_as_read(path, delimiter)}, the first line {_quoted(first)} is one column; "
            f"a list needs a user and an item column{_delimiter_hint(first, delimiter)}"
        )
    known = {name for names in CANDIDATES.values() for name in names}
    named = any(c is not None and not ascii_digits(c) for c in astuple(columns))
    has_header = named or any(h in known for h in header)
    names = header if has_header else [f"column{j + 1}" for j in range(len(header))]
    bad_rows: list[tuple[int, int, str]] = []

    def remember(row) -> str:
        bad_rows.append((row.expected_columns, row.actual_columns, row.text))
        return "error"

    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(column_names=names, skip_rows=number if has_header else number - 1),
            parse_options=csv.ParseOptions(delimiter=delimiter, invalid_row_handler=remember),
            # only an empty field is missing: a score 'nan' (or an id 'NA') is read as written, and refused or
            # matched as such, not taken for an empty field
            convert_options=csv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""]
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "UTF8" in message:
            raise text.utf8_error(path) from None
        if bad_rows:
            expected, actual, row = bad_rows[0]
            try:
                where = text.line_number(path, row, number)
            except DataError:
                where = None
            line = f"line {where}" if where else f"a row ({_quoted(row)})"
            raise DataError(
                f"{path}: {line} has {actual} {'field' if actual == 1 else 'fields'}, but the "
                f"{'header' if has_header else 'first line'} has {expected}; every row needs the same columns"
            ) from None
        raise DataError(f"{path}: cannot read as {_as_read(path, delimiter)} ({message})") from None
    # a first line naming no known column is taken for the header only because a --*-col names a column
    hint = (
        "; the first line names no known column: if the file has no header line, give column numbers (--user-col 1)"
        if has_header and not any(h in known for h in header)
        else ""
    )
    return _select(table, columns, str(path), headerless=not has_header, first=first, hint=hint)


def read_parquet(path: Path, columns: Columns) -> RawLists:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({str(exc).splitlines()[0]})") from None
    return _select(table, columns, str(path))


def delimited_text(lists: pa.Table, delimiter: str) -> str:
    """``user_id, item_id, rank, score`` with a header line, from a ``topk``-shaped table."""
    names = ("user_id", "item_id", "rank", "score")
    rows = zip(*(lists.column(c).to_pylist() for c in names), strict=True)
    return (
        delimiter.join(names)
        + "\n"
        + "".join(delimiter.join(str(v) if not isinstance(v, float) else repr(v) for v in row) + "\n" for row in rows)
    )
