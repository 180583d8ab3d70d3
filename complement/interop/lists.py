"""Checking imported lists against a workspace and turning them into ``topk`` rows.

All problems of a file are gathered into one line (counts and up to three examples each) before
anything is written: unknown users or items, duplicate (user, item) pairs, ranks that are not
1..n per user, lists longer than the limit, an empty file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..checks import file_problem
from ..errors import DataError
from . import text
from .raw import RawLists

EXAMPLES = 3


@dataclass
class Checked:
    """The ``topk`` rows of an imported view and what was found on the way."""

    table: pa.Table
    users: int
    dropped: int = 0
    masked_pairs: int = 0
    masked_examples: list[str] = field(default_factory=list)
    rank_from: str = "rank"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 unknown user``, ``2 unknown users``: a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def _examples(rows: list[tuple]) -> str:
    shown = ", ".join("/".join(f"'{text.shown(v)}'" for v in row) for row in rows[:EXAMPLES])
    return f" (e.g. {shown})"


def read_id_map(path: Path) -> dict[str, dict[str, str]]:
    """``--id-map``: a TSV (CSV when it ends in .csv) with header ``entity, internal_id, id``; entity
    is ``user`` or ``item``; an entity with no rows keeps the file's ids.
    Returns ``{"user": {internal: id}, "item": {...}}``."""
    from pyarrow import csv

    delimiter = "," if str(path).lower().endswith(".csv") else "\t"
    what = "--id-map "
    if (problem := file_problem(path)) is not None:
        raise DataError(f"--id-map {path} {problem}")
    if text.first_line(path, what) is None:
        raise DataError(f"--id-map {path}: the file is empty; it needs the header 'entity, internal_id, id'")
    try:
        table = csv.read_csv(
            path,
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=csv.ConvertOptions(
                column_types={"entity": pa.string(), "internal_id": pa.string(), "id": pa.string()}
            ),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "UTF8" in message:
            raise text.utf8_error(path, what) from None
        raise DataError(f"--id-map {path}: cannot read ({message})") from None
    names = table.column_names
    if not {"entity", "internal_id", "id"} <= set(names):
        other = "comma" if delimiter == "\t" else "tab"
        hint = (
            f"; it looks {other}-separated: an --id-map is tab-separated unless its name ends in .csv"
            if len(names) == 1 and ("," if delimiter == "\t" else "\t") in names[0]
            else ""
        )
        raise DataError(
            f"--id-map {path}: needs the header 'entity, internal_id, id' (found: {', '.join(names)}){hint}"
        )
    if twice := sorted({n for n in ("entity", "internal_id", "id") if names.count(n) > 1}):
        raise DataError(f"--id-map {path}: the header names {', '.join(twice)} more than once")
    out: dict[str, dict[str, str]] = {"user": {}, "item": {}}
    for entity, internal, external in zip(
        *(table.column(c).to_pylist() for c in ("entity", "internal_id", "id")), strict=True
    ):
        if entity not in out:
            raise DataError(f"--id-map {path}: entity must be 'user' or 'item', not '{text.shown(entity)}'")
        if out[entity].get(internal, external) != external:
            raise DataError(f"--id-map {path}: {entity} {text.shown(internal)} is mapped twice")
        out[entity][internal] = external
    return out


def _first_row_unknown(con) -> bool:
    """Whether the file's first row has an unknown user or item (a header read as a row has both)."""
    return bool(
        con.execute("""SELECT count(*) FROM raw WHERE pos = 0 AND (user_id NOT IN (SELECT user_id FROM known_users)
                       OR item_id NOT IN (SELECT item_id FROM known_items))""").fetchone()[0]
    )


def check_lists(
    raw: RawLists,
    view: str,
    user_ids: list[str],
    item_ids: list[str],
    masked: pa.Table,
    *,
    max_length: int,
    id_map: dict[str, dict[str, str]] | None = None,
    drop_unknown: bool = False,
) -> Checked:
    """Validate ``raw`` against the workspace ids; return the ``topk`` rows of ``view``.

    Ranks: the file's own when it has them (after ``drop_unknown`` they are renumbered 1..n in
    the same order), else from the score (descending, ties in file order), else the file order."""
    if raw.table.num_rows == 0:
        raise DataError(f"{raw.source}: no lists in the file; nothing written")
    con = duckdb.connect(":memory:")
    try:
        return _check(con, raw, view, user_ids, item_ids, masked, max_length, id_map, drop_unknown)
    finally:
        con.close()


def _check(con, raw, view, user_ids, item_ids, masked, max_length, id_map, drop_unknown) -> Checked:
    table = raw.table.append_column("pos", pa.array(range(raw.table.num_rows), pa.int64()))
    con.register("raw_in", table)
    con.register("known_users", pa.table({"user_id": pa.array(user_ids, pa.string())}))
    con.register("known_items", pa.table({"item_id": pa.array(item_ids, pa.string())}))
    con.register("masked", masked)
    # an entity without rows in the id map keeps the file's ids (e.g. only users were re-indexed)
    mapped = [e for e in ("user", "item") if id_map and id_map[e]]
    for entity in mapped:
        pairs = id_map[entity]
        con.register(
            f"map_{entity}",
            pa.table(
                {"internal_id": pa.array(list(pairs), pa.string()), "id": pa.array(list(pairs.values()), pa.string())}
            ),
        )
    replace = ", ".join(f"coalesce(m_{e}.id, '?' || r.{e}_id) AS {e}_id" for e in mapped)
    joins = " ".join(f"LEFT JOIN map_{e} m_{e} ON m_{e}.internal_id = r.{e}_id" for e in mapped)
    con.execute(f"CREATE TABLE raw AS SELECT r.* {f'REPLACE ({replace})' if mapped else ''} FROM raw_in r {joins}")
    problems: list[str] = []

    def unknown(entity: str) -> tuple[int, list[tuple]]:
        rows = con.sql(f"""SELECT DISTINCT {entity}_id FROM raw ANTI JOIN known_{entity}s USING ({entity}_id)
                           ORDER BY {entity}_id""").fetchall()
        return len(rows), [
            (r[0].removeprefix("?") + (" (not in --id-map)" if r[0].startswith("?") else ""),) for r in rows
        ]

    dup = con.sql("""SELECT user_id, item_id FROM raw GROUP BY user_id, item_id HAVING count(*) > 1
                     ORDER BY user_id, item_id""").fetchall()
    if dup:
        problems.append(f"{counted(len(dup), 'duplicate (user, item) pair')}{_examples(dup)}")

    if raw.has_rank:
        bad = con.sql("""SELECT user_id, list(rank ORDER BY rank)[:5]::VARCHAR FROM raw GROUP BY user_id
                         HAVING min(rank) <> 1 OR max(rank) <> count(*) OR count(DISTINCT rank) <> count(*)
                         ORDER BY user_id""").fetchall()
        if bad:
            problems.append(f"{counted(len(bad), 'user')} whose ranks are not 1..n{_examples(bad)}")
    dropped = 0
    for entity in ("user", "item"):
        n, rows = unknown(entity)
        if n and not drop_unknown:
            problems.append(f"{counted(n, f'unknown {entity}')}{_examples(rows)}")
    if drop_unknown:
        before = con.execute("SELECT count(*) FROM raw").fetchone()[0]
        con.execute(
            "DELETE FROM raw WHERE user_id NOT IN (SELECT user_id FROM known_users) "
            "OR item_id NOT IN (SELECT item_id FROM known_items)"
        )
        dropped = before - con.execute("SELECT count(*) FROM raw").fetchone()[0]
        if dropped == before:
            raise DataError(f"{raw.source}: every row has an unknown user or item; nothing written")

    if raw.has_rank:
        order, rank_from = "rank, pos", "rank"
    elif raw.has_score:
        order, rank_from = "score DESC, pos", "score"
    else:
        order, rank_from = "pos", "file order"
    score = "score" if raw.has_score else "NULL::DOUBLE"
    con.execute(f"""CREATE TABLE ranked AS SELECT user_id, item_id, {score} AS score,
                    row_number() OVER (PARTITION BY user_id ORDER BY {order})::INTEGER AS rank FROM raw""")

    long = con.sql(
        """SELECT user_id, count(*) AS n FROM ranked GROUP BY user_id HAVING count(*) > $m
                      ORDER BY n DESC, user_id""",
        params={"m": max_length},
    ).fetchall()
    if long:
        problems.append(
            f"{counted(len(long), 'list')} longer than {max_length} items (longest: {long[0][1]}, "
            f"user '{text.shown(long[0][0])}'; raise --k to store them)"
        )
    if problems:
        hint = (
            "" if drop_unknown or not any("unknown" in p for p in problems) else " (--drop-unknown drops unknown ids)"
        )
        if raw.first_row_read_as_data and not drop_unknown and _first_row_unknown(con):
            hint += (
                "; the first line names no user column, so it was read as a row: if it is a header, name its "
                "columns with --user-col and --item-col"
            )
        raise DataError(f"{raw.source}: " + "; ".join(problems) + f"; nothing written{hint}")

    masked_rows = con.sql("""SELECT r.user_id, r.item_id FROM ranked r SEMI JOIN masked m
                             ON m.user_id = r.user_id AND m.item_id = r.item_id
                             ORDER BY r.user_id, r.rank""").fetchall()
    result = con.sql(
        """SELECT $view AS view, user_id, rank, item_id, score FROM ranked
                        ORDER BY user_id, rank""",
        params={"view": view},
    ).to_arrow_table()
    users = con.execute("SELECT count(DISTINCT user_id) FROM ranked").fetchone()[0]
    return Checked(
        table=result,
        users=users,
        dropped=dropped,
        masked_pairs=len(masked_rows),
        masked_examples=[f"{text.shown(u)}/{text.shown(i)}" for u, i in masked_rows[:EXAMPLES]],
        rank_from=rank_from,
    )
