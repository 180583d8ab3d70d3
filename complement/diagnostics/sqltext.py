"""Reading diagnostic SQL as text, without a parser: the positions outside comments and quoted
strings, balanced parentheses, a file's leading comment header, and a statement's WITH list.

:mod:`.render` (macros as CTEs), :mod:`.standalone` (tables and parameters inlined),
:mod:`.headers` (``$name`` bindings) and :mod:`.translate` (Spark SQL) all read SQL through these."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import ComplementError

#: a ``--`` comment or a single- or double-quoted string (quotes escaped by doubling)
COMMENT_OR_STRING = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_SPACE_OR_COMMENT = re.compile(r"(?:\s+|--[^\n]*)*")
_CTE_HEAD = re.compile(r"([A-Za-z_]\w*(?:\s*\([^)]*\))?)\s+AS\s+((?:NOT\s+)?MATERIALIZED\s+)?\(", re.IGNORECASE)


def code_positions(text: str, start: int = 0) -> Iterator[int]:
    """Every index of ``text`` from ``start`` on that lies outside comments and quoted strings, in order."""
    pos = start
    while pos < len(text):
        skip = COMMENT_OR_STRING.match(text, pos)
        if skip:
            pos = skip.end()
            continue
        yield pos
        pos += 1


def closing(text: str, open_pos: int) -> int:
    """Index of the parenthesis (or bracket) closing the one at ``open_pos``."""
    depth = 0
    for pos in code_positions(text, open_pos):
        if text[pos] in "([":
            depth += 1
        elif text[pos] in ")]":
            depth -= 1
            if depth == 0:
                return pos
    raise ComplementError("unbalanced parentheses in a diagnostic")


def header_and_body(sql: str) -> tuple[str, str]:
    """The leading comment block and the statement after it."""
    lines = sql.splitlines(keepends=True)
    n = 0
    while n < len(lines) and (not lines[n].strip() or lines[n].lstrip().startswith("--")):
        n += 1
    return "".join(lines[:n]), "".join(lines[n:])


def split_with(body: str) -> tuple[list[tuple[str, str, str]], str]:
    """A ``WITH a AS (...), b AS (...) SELECT ...`` body as ([(name, definition, comment)], final
    select); ([], body) when it has no WITH. A definition keeps its ``MATERIALIZED`` keyword; the
    comment is the ``--`` lines just before the name."""
    stripped = body.lstrip()
    if not re.match(r"WITH\b", stripped, re.IGNORECASE):
        return [], body
    pos, ctes = 4, []
    while True:
        gap = _SPACE_OR_COMMENT.match(stripped, pos)
        assert gap is not None  # the pattern matches the empty string too
        comment = "\n".join(line.strip() for line in gap.group(0).splitlines() if line.strip().startswith("--"))
        head = _CTE_HEAD.match(stripped, gap.end())
        if not head:
            raise ComplementError(f"cannot read the WITH list near: {stripped[gap.end() : gap.end() + 40]!r}")
        close = closing(stripped, head.end() - 1)
        ctes.append((head.group(1), (head.group(2) or "") + stripped[head.end() - 1 : close + 1], comment))
        pos = close + 1
        comma = re.compile(r"\s*,").match(stripped, pos)
        if not comma:
            return ctes, stripped[pos:].strip()
        pos = comma.end()


def join_ctes(header: str, ctes: list[tuple[str, str, str]], statement: str) -> str:
    """``header``, then one WITH list of ``ctes`` ((name, definition, comment)) ahead of the
    statement's own, then the rest of ``statement``."""
    statement = statement.strip().rstrip(";").rstrip()
    if not ctes:
        return header + statement + "\n"
    parts = []
    for name, definition, comment in ctes:
        lead = "".join(f"{line}\n" for line in comment.splitlines())
        parts.append(f"{lead}{name} AS {definition}")
    has_with = re.match(r"WITH\b", statement, re.IGNORECASE)
    if has_with:
        statement = statement[has_with.end() :].lstrip()
        return header + "WITH\n" + ",\n".join(parts) + ",\n" + statement + "\n"
    return header + "WITH\n" + ",\n".join(parts) + "\n" + statement + "\n"
