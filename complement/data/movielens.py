"""MovieLens loaders: ml-100k (``u.data`` + ``u.item``), the ``ratings.csv``/``movies.csv`` family
(ml-latest, ml-latest-small, ml-20m, ml-25m, ml-32m) and the ``::``-separated ``.dat`` family
(ml-1m, ml-10m). Tags (``tags.csv`` / ``tags.dat``) are folded into the item fields as ``tags``:
the 20 most used tags of each movie, most used first.

Item fields: ``title``, ``genres`` (comma-separated names) and, when present, ``tags``. Default
template: ``"{title}. Genres: {genres}."`` (``" Tags: {tags}."`` appended when there are tags).
Timestamps are Unix seconds; ratings are the stars as given.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from .generic import Loaded, check_unique_ids, existing_path, iter_lines, read_delimited, require_columns

#: ml-100k's 19 genre flags, in u.item column order (as in u.genre).
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
TEMPLATE = "{title}. Genres: {genres}."
TEMPLATE_WITH_TAGS = "{title}. Genres: {genres}. Tags: {tags}."
TAGS_PER_ITEM = 20
NO_GENRES = "(no genres listed)"


def load(path: Path, options: dict | None = None) -> Loaded:
    """Load a MovieLens folder (or a file inside one); the family is found from its file names."""
    path = existing_path(path)
    folder = path if path.is_dir() else path.parent
    if (folder / "u.data").exists():
        return load_100k(folder)
    if (folder / "ratings.csv").exists():
        return load_csv_family(folder)
    if (folder / "ratings.dat").exists():
        return load_dat_family(folder)
    found = ", ".join(sorted(p.name for p in folder.iterdir())[:12]) or "nothing"
    raise DataError(f"{folder}: no MovieLens ratings (expected u.data, ratings.csv or ratings.dat; found: {found})")


def _interactions(user, item, rating, ts) -> pa.Table:
    return pa.table(
        {
            "user_id": pc.cast(user, pa.string()),
            "item_id": pc.cast(item, pa.string()),
            "ts": pc.cast(ts, pa.int64()),
            "rating": pc.cast(rating, pa.float64()),
        }
    )


def _genres(text: str | None, separator: str = "|") -> str | None:
    if not text or text == NO_GENRES:
        return None
    return ", ".join(g for g in text.split(separator) if g)


# ---- ml-100k ----------------------------------------------------------------------------------
def _genre_names(folder: Path) -> tuple[str, ...]:
    path = folder / "u.genre"
    if not path.exists():
        return ML100K_GENRES
    names = {}
    for number, line in iter_lines(path, "latin-1"):
        if not line.strip():
            continue
        name, _, index = line.rpartition("|")
        if not index.strip().isdigit():
            raise DataError(f"{path}:{number}: expected 'genre|index'")
        names[int(index)] = name
    return tuple(names[i] for i in sorted(names))


def load_100k(folder: Path) -> Loaded:
    """``u.data`` (TAB: user, item, rating, time) and ``u.item`` (latin-1, '|', 19 genre flags)."""
    data = read_delimited(
        folder / "u.data",
        "\t",
        column_names=["user", "item", "rating", "ts"],
        column_types={"user": pa.int64(), "item": pa.int64(), "rating": pa.float64(), "ts": pa.int64()},
    )
    interactions = _interactions(data["user"], data["item"], data["rating"], data["ts"])
    item_path = folder / "u.item"
    if not item_path.exists():
        return Loaded(interactions, None, TEMPLATE)
    genres = _genre_names(folder)
    ids, titles, genre_text, release = [], [], [], []
    for number, line in iter_lines(item_path, "latin-1"):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) != 5 + len(genres):
            raise DataError(f"{item_path}:{number}: expected {5 + len(genres)} '|'-separated fields, got {len(fields)}")
        ids.append(fields[0])
        titles.append(fields[1] or None)
        release.append(fields[2] or None)
        flags = fields[5:]
        genre_text.append(", ".join(g for g, f in zip(genres, flags, strict=True) if f.strip() == "1") or None)
    items = pa.table({"item_id": ids, "title": titles, "genres": genre_text, "release_date": release})
    check_unique_ids(items["item_id"], item_path)
    return Loaded(interactions, items, TEMPLATE)


# ---- tags -------------------------------------------------------------------------------------
def top_tags(item: pa.Array, tag: pa.Array, limit: int = TAGS_PER_ITEM) -> pa.Table:
    """Per item, its ``limit`` most used tags (case-insensitive; ties alphabetical), comma-joined."""
    raw = pa.table({"item_id": pc.cast(item, pa.string()), "tag": pc.cast(tag, pa.string())})
    con = duckdb.connect(":memory:")
    try:
        con.register("raw", raw)
        return con.sql(
            f"""
            WITH cleaned AS (SELECT item_id, trim(tag) AS tag FROM raw WHERE trim(coalesce(tag, '')) <> ''),
            counted AS (
                SELECT item_id, lower(tag) AS key, min(tag) AS tag, count(*) AS uses
                FROM cleaned GROUP BY item_id, lower(tag)
            ),
            ranked AS (
                SELECT *, row_number() OVER (PARTITION BY item_id ORDER BY uses DESC, key) AS position FROM counted
            )
            SELECT item_id, string_agg(tag, ', ' ORDER BY position) AS tags
            FROM ranked WHERE position <= {int(limit)} GROUP BY item_id ORDER BY item_id
            """
        ).to_arrow_table()
    finally:
        con.close()


def _with_tags(items: pa.Table, tags: pa.Table | None) -> tuple[pa.Table, str]:
    if tags is None or tags.num_rows == 0:
        return items, TEMPLATE
    positions = pc.index_in(items["item_id"], value_set=tags["item_id"])
    return items.append_column("tags", tags["tags"].combine_chunks().take(positions)), TEMPLATE_WITH_TAGS


# ---- ratings.csv family -----------------------------------------------------------------------
def load_csv_family(folder: Path) -> Loaded:
    """``ratings.csv`` (userId, movieId, rating, timestamp), ``movies.csv``, optional ``tags.csv``."""
    ratings_path = folder / "ratings.csv"
    ratings = read_delimited(ratings_path, ",")
    require_columns(ratings, ["userId", "movieId", "rating", "timestamp"], ratings_path)
    interactions = _interactions(ratings["userId"], ratings["movieId"], ratings["rating"], ratings["timestamp"])
    movies_path = folder / "movies.csv"
    if not movies_path.exists():
        return Loaded(interactions, None, TEMPLATE)
    movies = read_delimited(movies_path, ",", column_types={"movieId": pa.string()})
    require_columns(movies, ["movieId", "title", "genres"], movies_path)
    check_unique_ids(movies["movieId"], movies_path)
    items = pa.table(
        {
            "item_id": movies["movieId"],
            "title": movies["title"],
            "genres": pa.array([_genres(g) for g in movies["genres"].to_pylist()], pa.string()),
        }
    )
    tags = None
    tags_path = folder / "tags.csv"
    if tags_path.exists():
        raw = read_delimited(tags_path, ",", column_types={"movieId": pa.string(), "tag": pa.string()})
        require_columns(raw, ["movieId", "tag"], tags_path)
        tags = top_tags(raw["movieId"], raw["tag"])
    items, template = _with_tags(items, tags)
    return Loaded(interactions, items, template)


# ---- '::' .dat family -------------------------------------------------------------------------
def _read_double_colon(path: Path, names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    """A numeric ``a::b::c::d`` file, read fast by turning ``::`` into a TAB."""
    data = path.read_bytes().replace(b"::", b"\t")
    import pyarrow.csv as pcsv

    try:
        return pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(column_types=types),
        )
    except pa.ArrowInvalid as exc:
        raise DataError(
            f"{path}: cannot parse ({str(exc).splitlines()[0]}); expected {'::'.join(names)} per line"
        ) from None


def _dat_lines(path: Path):
    """Lines of a .dat text file: UTF-8 when it decodes, else latin-1 (ml-1m's encoding)."""
    try:
        path.read_bytes().decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    return iter_lines(path, encoding)


def load_dat_family(folder: Path) -> Loaded:
    """``ratings.dat`` (UserID::MovieID::Rating::Timestamp), ``movies.dat``, optional ``tags.dat``."""
    ratings = _read_double_colon(
        folder / "ratings.dat",
        ["user", "item", "rating", "ts"],
        {"user": pa.int64(), "item": pa.int64(), "rating": pa.float64(), "ts": pa.int64()},
    )
    interactions = _interactions(ratings["user"], ratings["item"], ratings["rating"], ratings["ts"])
    movies_path = folder / "movies.dat"
    if not movies_path.exists():
        return Loaded(interactions, None, TEMPLATE)
    ids, titles, genres = [], [], []
    for number, line in _dat_lines(movies_path):
        if not line.strip():
            continue
        movie, sep, rest = line.partition("::")
        title, sep2, genre = rest.rpartition("::")
        if not sep or not sep2:
            raise DataError(f"{movies_path}:{number}: expected MovieID::Title::Genres")
        ids.append(movie.strip())
        titles.append(title or None)
        genres.append(_genres(genre))
    items = pa.table({"item_id": ids, "title": titles, "genres": genres})
    check_unique_ids(items["item_id"], movies_path)
    tags = None
    tags_path = folder / "tags.dat"
    if tags_path.exists():
        tag_items, tag_texts = [], []
        for number, line in _dat_lines(tags_path):
            if not line.strip():
                continue
            parts = line.split("::")
            if len(parts) < 4:
                raise DataError(f"{tags_path}:{number}: expected UserID::MovieID::Tag::Timestamp")
            tag_items.append(parts[1])
            tag_texts.append("::".join(parts[2:-1]))
        tags = top_tags(pa.array(tag_items), pa.array(tag_texts))
    items, template = _with_tags(items, tags)
    return Loaded(interactions, items, template)
