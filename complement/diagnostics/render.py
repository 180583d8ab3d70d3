"""A diagnostic as one self-contained statement: the shared macros of ``_macros.sql`` rendered as CTEs.

DuckDB runs a diagnostic after creating the macros; other engines (and a DuckDB shell without
them) need the text on its own. :func:`render` inlines every scalar macro call as a parenthesised
expression and turns every table macro call into a CTE placed before the diagnostic's own, its
inner CTEs lifted beside it under prefixed names (``user_metrics_truth``), so the statement has a
single flat WITH list (sqlglot lifts nested WITHs when it writes Spark SQL, and equal inner names
of two macros would then clash).

The DuckDB command-line form (tables and parameters inlined too) is in :mod:`.standalone`; the text
reading both use (comments and strings skipped, WITH lists split) is in :mod:`.sqltext`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ComplementError
from .headers import MACROS_PATH
from .sqltext import IDENTIFIER, closing, code_positions, header_and_body, join_ctes, split_with

_MACRO = re.compile(
    r"^\s*CREATE\s+MACRO\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s+AS\s+(TABLE\s+)?(.*?)\s*;?\s*$", re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: str
    is_table: bool
    comment: str = ""


def parse_macros(text: str) -> dict[str, Macro]:
    """The macros of a ``_macros.sql`` text, each with the comment lines just above it."""
    macros: dict[str, Macro] = {}
    for chunk in _split_statements(text):
        lines = chunk.strip().splitlines()
        comment: list[str] = []
        while lines and (lines[0].strip().startswith("--") or not lines[0].strip()):
            line = lines.pop(0).strip()
            comment = [*comment, line] if line else []
        match = _MACRO.match("\n".join(lines))
        if not match:
            continue
        params = tuple(p.strip() for p in match.group(2).split(",") if p.strip())
        body = match.group(4).strip()
        if not match.group(3):  # a scalar macro: AS (expression)
            body = body.strip()
        macros[match.group(1).lower()] = Macro(
            match.group(1).lower(), params, body, bool(match.group(3)), "\n".join(comment)
        )
    return macros


@lru_cache(maxsize=4)
def _macros_of(path: Path, mtime: float) -> dict[str, Macro]:
    return parse_macros(path.read_text(encoding="utf-8"))


def shared_macros() -> dict[str, Macro]:
    return _macros_of(MACROS_PATH, MACROS_PATH.stat().st_mtime)


def _split_statements(text: str) -> list[str]:
    """``text`` split at semicolons outside comments and strings."""
    out, start = [], 0
    for pos in code_positions(text):
        if text[pos] == ";":
            out.append(text[start:pos])
            start = pos + 1
    out.append(text[start:])
    return [s for s in out if s.strip()]


def _tokens(text: str) -> Iterable[tuple[int, int]]:
    """(start, end) of every identifier outside comments and strings."""
    resume = 0
    for pos in code_positions(text):
        if pos < resume:  # inside the identifier just given
            continue
        ident = IDENTIFIER.match(text, pos)
        if ident and (pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_$")):
            yield ident.start(), ident.end()
            resume = ident.end()


def _split_args(text: str) -> list[str]:
    args, depth, start = [], 0, 0
    for pos in code_positions(text):
        char = text[pos]
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[start:pos].strip())
            start = pos + 1
    last = text[start:].strip()
    return [*args, last] if last or args else args


def _substitute(body: str, values: Mapping[str, str]) -> str:
    """Replace each identifier named in ``values`` (not qualified: no ``x.`` before it)."""
    out, last = [], 0
    for start, end in _tokens(body):
        name = body[start:end].lower()
        if name in values and (start == 0 or body[start - 1] != "."):
            out += [body[last:start], values[name]]
            last = end
    return "".join(out) + body[last:]


def _wrap(arg: str) -> str:
    """``arg`` in parentheses unless it is one token or already enclosed in () or []."""
    if re.fullmatch(r"\$?\w+|'(?:[^']|'')*'", arg):
        return arg
    if arg[:1] in "([" and closing(arg, 0) == len(arg) - 1:
        return arg
    return f"({arg})"


class _Renderer:
    def __init__(self, macros: Mapping[str, Macro], keep: frozenset[str]):
        self.macros = macros
        self.keep = keep
        self.ctes: list[tuple[str, str, str]] = []  # (name, definition, comment)
        self.seen: dict[tuple[str, tuple[str, ...]], str] = {}

    def expand(self, text: str) -> str:
        out, pos = [], 0
        for start, end in _tokens(text):
            if start < pos:
                continue
            name = text[start:end].lower()
            macro = self.macros.get(name)
            paren = re.compile(r"\s*\(").match(text, end)
            if macro is None or name in self.keep or not paren or (start > 0 and text[start - 1] == "."):
                continue
            close = closing(text, paren.end() - 1)
            args = [self.expand(a) for a in _split_args(text[paren.end() : close])]
            if len(args) != len(macro.params):
                raise ComplementError(f"macro {name} takes {len(macro.params)} arguments, got {len(args)}")
            out.append(text[pos:start])
            out.append(self._table(macro, args) if macro.is_table else self._scalar(macro, args))
            pos = close + 1
        return "".join(out) + text[pos:]

    def _scalar(self, macro: Macro, args: list[str]) -> str:
        body = _substitute(macro.body, {p.lower(): _wrap(a) for p, a in zip(macro.params, args, strict=True)})
        body = self.expand(body)
        return body if body.startswith("(") and closing(body, 0) == len(body) - 1 else f"({body})"

    def _table(self, macro: Macro, args: list[str]) -> str:
        key = (macro.name, tuple(args))
        if key in self.seen:
            return self.seen[key]
        taken = {name for name, _, _ in self.ctes}
        cte, n = macro.name, 1
        while cte in taken:
            n += 1
            cte = f"{macro.name}_{n}"
        body = _substitute(macro.body, {p.lower(): _wrap(a) for p, a in zip(macro.params, args, strict=True)})
        inner, final = split_with(body)
        renames = {name.lower(): f"{cte}_{name}" for name, _, _ in inner}
        comment = macro.comment
        for name, definition, _ in inner:
            self.ctes.append((renames[name.lower()], self.expand(_rename_tables(definition, renames)), comment))
            comment = ""
        self.ctes.append((cte, "(" + self.expand(_rename_tables(final, renames)).strip() + ")", comment))
        self.seen[key] = cte
        return cte


def _rename_tables(sql: str, renames: Mapping[str, str]) -> str:
    """Rename the CTEs a macro body reads (names after FROM or JOIN, or before AS in its WITH list)."""
    if not renames:
        return sql
    pattern = re.compile(r"\b(FROM|JOIN)(\s+)([A-Za-z_]\w*)\b", re.IGNORECASE)
    return pattern.sub(lambda m: m.group(1) + m.group(2) + renames.get(m.group(3).lower(), m.group(3)), sql)


def render(sql: str, keep: Iterable[str] = (), macros: Mapping[str, Macro] | None = None) -> str:
    """``sql`` (one diagnostic, header included) with the shared macros inlined: scalar calls as
    expressions, table calls as CTEs ahead of the statement's own. Macros named in ``keep`` stay
    calls (an engine-specific translation replaces them)."""
    renderer = _Renderer(shared_macros() if macros is None else macros, frozenset(k.lower() for k in keep))
    header, statement = header_and_body(sql)
    own, final = split_with(statement)
    # The statement's own CTEs are expanded first, so the macro CTEs they call are already listed
    # (in dependency order) when they are placed after them.
    own_rendered = [(name, renderer.expand(definition), comment) for name, definition, comment in own]
    final = renderer.expand(final)
    clash = {n.lower() for n, _, _ in renderer.ctes} & {n.split("(")[0].strip().lower() for n, _, _ in own_rendered}
    if clash:
        raise ComplementError(
            f"a CTE of the diagnostic is named like a shared macro's ({', '.join(sorted(clash))}); rename it"
        )
    return join_ctes(header, renderer.ctes + own_rendered, final)
