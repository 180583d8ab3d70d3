"""Discovery and header parsing of the diagnostic ``.sql`` files.

A diagnostic is one SQL file whose leading comment block is its metadata::

    -- name: overlap
    -- description: Per-user Jaccard overlap of two views' top-$k lists.
    -- param: k INTEGER = 20
    -- param: view_a VARCHAR
    -- requires: topk, interactions
    -- returns: one row per statistic

A default is a DuckDB literal (``20``, ``'train'``, ``[]``), cast to the declared type. A table
in ``requires`` ending in ``?`` (``-- requires: topk, runs?``) is optional: a workspace without it runs the
diagnostic over an empty table of its schema (:func:`complement.db.empty_select`).
Built-ins live in the package's ``sql/`` folder; a path to a user's own file works the same way.
Files whose stem starts with ``_`` (``_macros.sql``) are helpers, not diagnostics."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import tables
from ..errors import ComplementError, ConfigError, unknown_name
from .sqltext import COMMENT_OR_STRING, header_and_body, split_with

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MACROS_PATH = SQL_DIR / "_macros.sql"

_HEADER_LINE = re.compile(r"^--\s*(name|description|param|requires|returns|stage):\s*(.*?)\s*$")
_PARAM = re.compile(r"^([a-z_][a-z0-9_]*)\s+([A-Za-z][A-Za-z0-9_]*(?:\[\])?)\s*(?:=\s*(.+))?$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BINDING = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Param:
    """One ``-- param: NAME TYPE [= DEFAULT]`` line; ``default`` is the SQL literal text or None."""

    name: str
    type: str
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def __str__(self) -> str:
        return f"{self.name} {self.type}" + (f" = {self.default}" if self.default is not None else "")


@dataclass(frozen=True)
class Diagnostic:
    """A parsed diagnostic file: its header's fields, and the file's text (``sql``) run as is."""

    name: str
    description: str
    params: tuple[Param, ...]
    requires: tuple[str, ...]
    returns: str
    sql: str = field(repr=False)  # a whole file: a list of diagnostics in a notebook shows their names, not this
    path: Path
    #: the CTE holding the per-user rows, run one user bucket at a time on a large workspace
    #: (``-- stage: NAME``; :mod:`.buckets`), or None
    stage: str | None = None
    optional: tuple[str, ...] = ()  # tables read when present, as empty when absent (``runs?``)

    @property
    def reads(self) -> tuple[str, ...]:
        """Every table the statement reads: the required ones, then the optional ones."""
        return self.requires + self.optional

    @cached_property
    def bindings(self) -> frozenset[str]:
        """The ``$name`` bindings the statement uses, read from ``sql`` (so they cannot disagree with it)."""
        return used_bindings(self.sql)

    @property
    def is_check(self) -> bool:
        return self.name.startswith("check_")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def used_bindings(sql: str) -> frozenset[str]:
    """The ``$name`` bindings a statement uses (comments and quoted strings ignored)."""
    return frozenset(_BINDING.findall(COMMENT_OR_STRING.sub(" ", sql)))


def parse(text: str, path: Path) -> Diagnostic:
    """Parse a diagnostic file's header; the body is kept verbatim (DuckDB ignores the comments)."""
    meta: dict[str, list[str]] = {
        "name": [],
        "description": [],
        "param": [],
        "requires": [],
        "returns": [],
        "stage": [],
    }
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _HEADER_LINE.match(stripped)
        if match:
            meta[match.group(1)].append(match.group(2))
    if len(meta["name"]) != 1 or not meta["name"][0]:
        raise ConfigError(f"{path}: the header needs exactly one '-- name: NAME' line at the top of the file")
    params = []
    for spec in meta["param"]:
        match = _PARAM.match(spec)
        if not match:
            raise ConfigError(f"{path}: cannot read '-- param: {spec}' (expected '-- param: NAME TYPE [= DEFAULT]')")
        params.append(Param(match.group(1), match.group(2).upper(), match.group(3)))
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: a parameter is declared twice ({', '.join(names)})")
    listed = [t.strip() for spec in meta["requires"] for t in spec.split(",") if t.strip()]
    for table in listed:
        if table.removesuffix("?") not in tables.SCHEMAS:
            raise ConfigError(
                f"{path}: '-- requires: {table}' is not a workspace table ({', '.join(tables.TABLE_NAMES)}; "
                "TABLE? for an optional one)"
            )
    if len(meta["stage"]) > 1 or (meta["stage"] and not _IDENT.fullmatch(meta["stage"][0])):
        raise ConfigError(f"{path}: '-- stage:' names one CTE of the statement, once (e.g. '-- stage: per_user')")
    if meta["stage"]:
        ctes = [name for name, _, _ in split_with(header_and_body(text)[1])[0]]
        if meta["stage"][0] not in ctes:
            raise ConfigError(
                f"{path}: '-- stage: {meta['stage'][0]}' names no CTE of the statement's WITH list "
                f"({', '.join(ctes) or 'it has none'})"
            )
    requires = tuple(t for t in listed if not t.endswith("?"))
    optional = tuple(t.removesuffix("?") for t in listed if t.endswith("?"))
    return Diagnostic(
        name=meta["name"][0],
        description=" ".join(meta["description"]),
        params=tuple(params),
        requires=requires,
        returns=" ".join(meta["returns"]),
        sql=text,
        path=path,
        stage=meta["stage"][0] if meta["stage"] else None,
        optional=optional,
    )


def load(path: Path) -> Diagnostic:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read diagnostic file {path}: {exc.strerror}") from None
    return parse(text, path)


def builtin_paths() -> list[Path]:
    return sorted(p for p in SQL_DIR.glob("*.sql") if not p.stem.startswith("_"))


def list_diagnostics() -> list[Diagnostic]:
    """Every built-in diagnostic, sorted by name."""
    return [load(p) for p in builtin_paths()]


def find(name_or_path: str | Path) -> Diagnostic:
    """A built-in diagnostic by name, or a user's ``.sql`` file by path."""
    text = str(name_or_path)
    if text.endswith(".sql") or "/" in text or "\\" in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ComplementError(f"no diagnostic file at {path}")
        return load(path)
    path = SQL_DIR / f"{text}.sql"
    if text.startswith("_") or not path.is_file():
        choices = [p.stem for p in builtin_paths()]
        raise ComplementError(unknown_name("diagnostic", text, choices) + "; run `complement diagnose list`")
    return load(path)


def show(name_or_path: str | Path) -> str:
    """The SQL text of a diagnostic, header included."""
    return find(name_or_path).sql
