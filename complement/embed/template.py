"""The text each item is embedded from: ``items.text``, or a template over the items columns.

Policy for items without usable text (documented in docs/embeddings.md): a text counts as empty
when it is NULL or has no letter or digit in it (so a rendered ``". "`` is empty too). An empty
text falls back to the item's ``title``; an item with neither is embedded from its ``item_id`` so
every item still gets a vector, and the command says how many items that happened to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.text import template_fields as parse_template_fields
from ..errors import ConfigError, DataError, WorkspaceError


@dataclass(frozen=True)
class ItemTexts:
    """Item ids in ``item_idx`` order, the text to embed for each, and how many needed a fallback."""

    ids: np.ndarray
    texts: list[str]
    n_from_title: int = 0
    n_from_id: int = 0


def _has_content(text: str | None) -> bool:
    return text is not None and any(ch.isalnum() for ch in text)


def template_fields(template: str) -> list[str]:
    """The column names a ``str.format``-style template refers to (``"{title}. {genres}"``)."""
    try:
        fields = parse_template_fields(template)  # the one template parser, shared with ingestion
    except DataError as exc:
        raise ConfigError(f"bad --template: {exc}") from None
    if not fields:
        raise ConfigError(f"--template {template!r} names no column; use e.g. '{{title}}. {{genres}}'")
    return fields


def _render_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_render_value(v) for v in value if v is not None)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render_template(template: str, rows: list[dict]) -> list[str]:
    """Render ``template`` for each row; NULL renders as an empty string, lists as ``a, b, c``."""
    fields = template_fields(template)
    return [template.format(**{f: _render_value(row.get(f)) for f in fields}).strip() for row in rows]


def item_texts(ws, template: str | None = None) -> ItemTexts:
    """The text of every item of ``ws`` (ordered by ``item_idx``), with the fallback policy above."""
    ws.require("items")
    table = ws.query("SELECT * FROM items ORDER BY item_idx")
    if table.num_rows == 0:
        raise WorkspaceError(f"workspace {ws.root} has an empty 'items' table: nothing to embed")
    columns = table.column_names
    if template is not None:
        missing = [f for f in template_fields(template) if f not in columns]
        if missing:
            raise ConfigError(
                f"--template names unknown item column(s) {', '.join(missing)} (items columns: {', '.join(columns)})"
            )
        primary = render_template(template, table.to_pylist())
    else:
        primary = table.column("text").to_pylist()
    titles = table.column("title").to_pylist()
    ids = np.asarray(table.column("item_id").to_pylist(), dtype=object)
    texts: list[str] = []
    n_from_title = n_from_id = 0
    for item_id, text, title in zip(ids, primary, titles, strict=True):
        if _has_content(text):
            texts.append(text.strip())
        elif _has_content(title):
            texts.append(title.strip())
            n_from_title += 1
        else:
            texts.append(str(item_id))
            n_from_id += 1
    return ItemTexts(ids=ids, texts=texts, n_from_title=n_from_title, n_from_id=n_from_id)
