"""CSV, TSV and Parquet lists as LensKit, Elliot (``save_recs``), Cornac or implicit write them.

Columns are found by name: the ``--user-col``/``--item-col``/``--score-col``/``--rank-col`` given,
else the first of :data:`CANDIDATES` present (LensKit: ``user, item, score, rank``). A CSV/TSV
whose first line names none of the user columns is read as headerless, with columns
``user, item[, score[, rank]]`` by position (Elliot's ``save_recs`` writes ``user TAB item TAB score``);
in a headerless file ``--*-col`` may be a 1-based column number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ..checks import ascii_digits
from ..errors import DataError
from .raw import RawLists, make_raw

CANDIDATES: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "user", "userId", "uid", "qid"),
    "item": ("item_id", "item", "itemId", "iid", "docno"),
    "score": ("score", "prediction", "pred", "rating"),
    "rank": ("rank",),
}
HEADERLESS = ("user", "item", "score", "rank")


@dataclass(frozen=True)
class Columns:
    """Column names (or 1-based positions in a headerless file) chosen on the command line."""

    user: str | None = None
    item: str | None = None
    score: str | None = None
    rank: str | None = None


def _pick(role: str, given: str | None, names: list[str], source: str, required: bool) -> str | None:
    if given is not None:
        if given in names:
            return given
        if ascii_digits(given) and names[0].startswith("column") and 1 <= int(given) <= len(names):
            return names[int(given) - 1]
        raise DataError(f"{source}: no column '{given}' for --{role}-col (columns: {', '.join(names)})")
    found = next((c for c in CANDIDATES[role] if c in names), None)
    if found is None and required:
        raise DataError(
            f"{source}: no {role} column (looked for {', '.join(CANDIDATES[role])}; columns: {', '.join(names)}); "
            f"name it with --{role}-col"
        )
    return found


def _select(table: pa.Table, columns: Columns, source: str) -> RawLists:
    names = table.column_names
    headerless = names and names[0] == "column1"
    if headerless and columns == Columns():
        # a headerless file has 2 to 4 columns: they take the roles in order, extra columns are ignored
        roles = dict(zip(HEADERLESS, names, strict=False))
    else:
        roles = {
            role: _pick(role, getattr(columns, role), names, source, required=role in ("user", "item"))
            for role in HEADERLESS
        }
    if table.num_rows and any(table.column(roles[r]).null_count for r in ("user", "item")):
        raise DataError(f"{source}: some rows have no user or item id")
    ranks = table.column(roles["rank"]) if roles.get("rank") else None
    scores = table.column(roles["score"]) if roles.get("score") else None
    for name, column in (("rank", ranks), ("score", scores)):
        if column is not None and column.null_count:
            raise DataError(f"{source}: {column.null_count} rows have an empty {name}")
    return make_raw(
        source,
        table.column(roles["user"]).combine_chunks(),
        table.column(roles["item"]).combine_chunks(),
        None if ranks is None else ranks.combine_chunks(),
        None if scores is None else scores.combine_chunks(),
    )


def read_delimited(path: Path, delimiter: str, columns: Columns) -> RawLists:
    from pyarrow import csv

    with open(path, encoding="utf-8") as handle:
        first = handle.readline().rstrip("\r\n")
    if not first.strip():
        return make_raw(str(path), [], [])
    header = [h.strip().strip('"') for h in first.split(delimiter)]
    user_names = (columns.user,) if columns.user and not columns.user.isdigit() else CANDIDATES["user"]
    has_header = any(name in header for name in user_names)
    names = header if has_header else [f"column{j + 1}" for j in range(len(header))]
    try:
        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(column_names=names, skip_rows=1 if has_header else 0),
            parse_options=csv.ParseOptions(delimiter=delimiter),
            # only an empty field is missing: a score 'nan' (or an id 'NA') is read as written, and refused or
            # matched as such, not taken for an empty field
            convert_options=csv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""]
            ),
        )
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{path}: cannot read as {'TSV' if delimiter == chr(9) else 'CSV'} ({str(exc).splitlines()[0]})"
        ) from None
    return _select(table, columns, str(path))


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
