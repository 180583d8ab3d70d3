"""Names of the item text-vector view.

``complement embed`` writes the text vectors of the items to view ``text``; the trained semantic
baseline model (``complement train semantic``) writes view ``sem``. Workspaces written before the
rename keep their text vectors under ``semantic``: :func:`text_view_for` falls back to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..workspace import Workspace

#: where ``complement embed`` writes the item text vectors, and where text models read them
DEFAULT_TEXT_VIEW = "text"
#: the text-vector view of workspaces written by earlier versions
LEGACY_TEXT_VIEW = "semantic"


def text_view_for(ws: Workspace, text_view: str) -> str:
    """The view to read item text vectors from: ``text_view``, unless it is the default ``text``,
    the workspace has no such view and holds legacy text vectors under ``semantic`` (item vectors
    only, as ``complement embed`` wrote them); then ``semantic``, with a one-line note on stderr."""
    from ..progress import message

    if text_view != DEFAULT_TEXT_VIEW:
        return text_view
    parts = ws.parts("embeddings")
    if DEFAULT_TEXT_VIEW in parts or LEGACY_TEXT_VIEW not in parts:
        return text_view
    if LEGACY_TEXT_VIEW in ws.views("user"):  # a trained view named 'semantic', not text vectors
        return text_view
    message(
        f"note: no view '{DEFAULT_TEXT_VIEW}' in embeddings; reading the text vectors of view "
        f"'{LEGACY_TEXT_VIEW}' (written by an earlier version; pass --text-view to choose)"
    )
    return LEGACY_TEXT_VIEW
