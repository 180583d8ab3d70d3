"""Item text: render a template such as ``"{title}. Genres: {genres}."`` from item fields.

Rules (docs/ingestion.md):

- ``{field}`` is replaced by the item's value of that column; a list value is joined with ", ";
  a missing (NULL) value renders as nothing.
- A labelled part whose field is empty is dropped: ``"Genres: ."`` disappears when ``genres`` is
  NULL, so items without tags do not end in ``"Tags: ."``.
- HTML entities are unescaped (``&amp;`` -> ``&``) and whitespace is normalised (runs of spaces,
  tabs and newlines become one space; ends are trimmed).
- A template naming a field the data lacks is a :class:`DataError` that lists the fields.
- Text that renders empty is NULL (the item keeps its interactions and is counted as without text).
"""

from __future__ import annotations

import html
import re
import string

import pyarrow as pa

from ..errors import DataError

_WHITESPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?])")
# "Label: ." or "Label:" at the end, left behind by an empty field.
_EMPTY_LABEL = re.compile(r"(^|(?<=[.;!?]))\s*[A-Z][\w /&-]{0,30}:\s*(?:[.;]|$)")
_REPEATED_DOTS = re.compile(r"(?:\.\s*){2,}")


def normalise(text: str | None) -> str | None:
    """Unescape HTML entities and collapse whitespace; ``None`` for empty text."""
    if text is None:
        return None
    text = _WHITESPACE.sub(" ", html.unescape(str(text))).strip()
    return text or None


def template_fields(template: str) -> list[str]:
    """The ``{field}`` names a template uses, in order."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise DataError(
            f"bad template {template!r}: {exc} (write fields as {{name}} and a literal brace as {{{{ or }}}})"
        ) from None
    names = []
    for _, name, _, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise DataError(f"bad template field {{{name}}} in {template!r}: use plain column names such as {{title}}")
        names.append(name)
    return names


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value if v is not None and _value(v))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items() if v is not None and _value(v))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def tidy(text: str) -> str | None:
    """Drop labelled parts left empty, fix spacing before punctuation, collapse whitespace."""
    text = _WHITESPACE.sub(" ", text).strip()
    text = _EMPTY_LABEL.sub(r"\1", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
    text = _REPEATED_DOTS.sub(". ", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if text.startswith(". ") or text == ".":
        text = text[1:].strip()
    return text or None


def render(template: str, items: pa.Table) -> pa.Array:
    """Render ``template`` for every row of ``items``; returns a string array (NULL when empty)."""
    names = template_fields(template)
    missing = sorted({n for n in names if n not in items.column_names})
    if missing:
        usable = ", ".join(c for c in items.column_names if c != "item_id")
        raise DataError(
            f"template field(s) {', '.join('{' + m + '}' for m in missing)} not in the item data (fields: {usable})"
        )
    columns = {n: items.column(n).to_pylist() for n in dict.fromkeys(names)}
    out = []
    for row in range(items.num_rows):
        values = {n: normalise(_value(columns[n][row])) or "" for n in columns}
        rendered = template.format(**values) if names else template
        out.append(tidy(html.unescape(rendered)) if any(values.values()) else None)
    return pa.array(out, pa.string())


def default_template(columns: list[str]) -> str:
    """A template from whatever text-like columns exist: ``"{title}. {a}. {b}"``."""
    fields = [c for c in columns if c not in ("item_id", "text")]
    if "title" in fields:
        fields.remove("title")
        fields.insert(0, "title")
    return ". ".join("{" + f + "}" for f in fields) if fields else ("{text}" if "text" in columns else "")
