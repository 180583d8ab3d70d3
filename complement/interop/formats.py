"""The registry of list formats by name, and the guess from a file's extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError, unknown_name
from . import ranx, tabular, trec
from .raw import RawLists

Reader = Callable[[Path, tabular.Columns], RawLists]

READERS: dict[str, Reader] = {
    "trec": lambda path, columns: trec.read_run(path),
    "ranx": lambda path, columns: ranx.read_run(path),
    "csv": lambda path, columns: tabular.read_delimited(path, ",", columns),
    "tsv": lambda path, columns: tabular.read_delimited(path, "\t", columns),
    "parquet": lambda path, columns: tabular.read_parquet(path, columns),
}
RUN_WRITERS = ("trec", "ranx", "csv", "tsv", "parquet")
QRELS_WRITERS = ("trec", "ranx")
EXTENSIONS = {
    ".trec": "trec",
    ".run": "trec",
    ".txt": "trec",
    ".json": "ranx",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


#: a qrels file's usual name (``test.qrels``, as trec_eval and ir_measures call it) is TREC; only for qrels
QRELS_EXTENSIONS = {**EXTENSIONS, ".qrels": "trec"}


def format_of(path: Path, given: str | None, choices=tuple(READERS), extensions=EXTENSIONS) -> str:
    """``given`` when set (checked), else the format its extension names (in ``extensions``)."""
    if given is not None:
        if given not in choices:
            raise ConfigError(unknown_name("format", given, choices))
        return given
    guessed = extensions.get(Path(path).suffix.lower())
    if guessed is None or guessed not in choices:
        raise ConfigError(
            f"cannot tell the format of '{Path(path).name}' from its extension; pass --format ({', '.join(choices)})"
        )
    return guessed


def read_lists(path: Path, fmt: str, columns: tabular.Columns) -> RawLists:
    if fmt not in ("csv", "tsv", "parquet") and columns != tabular.Columns():
        raise ConfigError(
            f"--user-col/--item-col/--score-col/--rank-col apply to csv, tsv and parquet files, not {fmt}"
        )
    return READERS[fmt](path, columns)
