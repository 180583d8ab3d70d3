"""The error of a step that needs a view's vectors and was given a list view (top-K lists, no vectors), saying
how that view was really made: its lists' catalog entry records the command that made them (``made_by``).

A list view is made two ways: lists imported with ``complement topk --from FILE``, or a score or rrf fusion,
which writes lists only whether it fused two views' vectors or their stored lists."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .errors import WorkspaceError

if TYPE_CHECKING:
    from .workspace import Workspace


def made_by(ws: Workspace, view: str) -> str:
    """The command that made ``view``'s top-K lists, or an empty string when the catalog does not say."""
    entry = ws.catalog().entries.get(f"topk/{view}")
    return entry.made_by if entry is not None else ""


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return []


def _option(words: list[str], flag: str) -> str | None:
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.partition("=")[2]
    return None


def is_fusion(command: str) -> bool:
    """Whether ``command`` is a ``complement fuse`` (:func:`complement.viewkind.kind_of_command`)."""
    from .viewkind import FUSED, kind_of_command

    return kind_of_command(command) == FUSED


def how_made(command: str) -> str:
    """How a list view came to be, from the command that made its lists (``made_by``), whose kind
    :func:`complement.viewkind.kind_of_command` reads."""
    from .viewkind import FUSED, IMPORTED_LISTS, kind_of_command

    kind = kind_of_command(command)
    if kind == FUSED:
        method = _option(_words(command), "--method")
        by = f"{method} fusion" if method else "this fusion"
        return f"its lists were fused with `{command}`, and {by} writes top-K lists, no vectors"
    if kind == IMPORTED_LISTS:
        return f"its lists were imported with `{command}`"
    if command:
        return f"its lists were made by `{command}`, without vectors"
    return "it has top-K lists and no vectors"


def list_view_error(ws: Workspace, view: str, why: str) -> WorkspaceError:
    """The one-line error of a step that needs vectors and was given list view ``view``: how the view was made
    (from its catalog entry), then ``why`` the step cannot use it."""
    return WorkspaceError(f"view '{view}' is a list view ({how_made(made_by(ws, view))}): {why}")
