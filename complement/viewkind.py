"""What kind of view a name holds, so that a step does not half-replace a view of another kind.

A view's vectors (``embeddings``) and top-K lists (``topk``) are written by one kind of step: text vectors
by ``complement embed``, imported vectors by ``embed --from``, a trained model by ``train``, a fusion by
``fuse``, imported lists by ``topk --from``. Each catalog entry records the command that made it
(``made_by``), which names its kind. A step that writes a view of one kind into a name that holds another
would replace some of its parts and keep the others (``embed`` writes item vectors only; a list fusion
writes lists only), leaving a view whose parts disagree and whose refresh command undoes the step. Such a
write is refused before anything is written (:func:`check_writable`); ``complement drop`` frees the name.
Rewriting a view of the same kind is allowed, and the step replaces every part it makes."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from .workspace import Workspace

TEXT = "text"
IMPORTED_VECTORS = "imported-vectors"
TRAINED = "trained"
FUSED = "fused"
IMPORTED_LISTS = "imported-lists"
TRUTH = "truth"

#: how each kind is named in a message
DESCRIPTION = {
    TEXT: "text vectors",
    IMPORTED_VECTORS: "imported vectors",
    TRAINED: "a trained model",
    FUSED: "a fusion",
    IMPORTED_LISTS: "imported lists",
    TRUTH: "a synthetic workspace's planted truth",
}

#: the kinds of view each writing kind may replace: its own, and item-vector views for the vector writers
_REPLACES = {
    TEXT: {TEXT, IMPORTED_VECTORS},
    IMPORTED_VECTORS: {IMPORTED_VECTORS, TEXT},
    TRAINED: {TRAINED},
    FUSED: {FUSED},
    IMPORTED_LISTS: {IMPORTED_LISTS},
}


def kind_of_command(made_by: str) -> str | None:
    """The kind of view a recorded command makes, or None when it does not say (``complement topk``
    without ``--from`` derives lists from the view's own vectors; an empty or foreign command)."""
    try:
        words = shlex.split(made_by)
    except ValueError:
        return None
    if len(words) < 2 or words[0] != "complement":
        return None
    command, rest = words[1], words[2:]
    imported = any(word == "--from" or word.startswith("--from=") for word in rest)
    if command == "embed":
        return IMPORTED_VECTORS if imported else TEXT
    if command == "topk":
        return IMPORTED_LISTS if imported else None
    return {"train": TRAINED, "fuse": FUSED, "synth": TRUTH, "ingest": TRUTH}.get(command)


def view_kind(ws: Workspace, view: str) -> tuple[str, str] | None:
    """``(kind, command)`` of what view ``view`` holds now, from its vectors' entry, else its lists';
    None when it does not exist or its commands do not say (written through the library's raw writers)."""
    entries = ws.catalog().entries
    for table in ("embeddings", "topk"):
        entry = entries.get(f"{table}/{view}")
        if entry is not None and (kind := kind_of_command(entry.made_by)) is not None:
            return kind, entry.made_by
    return None


def check_writable(ws: Workspace, view: str, kind: str, command: str) -> None:
    """Refuse to write a view of ``kind`` (by ``command``, as the user would type it) into ``view`` when
    it holds a view of another kind. ``embed`` may replace imported vectors only while the view has item
    vectors alone (no user vectors, no lists), which is all it writes; ``embed --from`` may replace text
    vectors (bring your own text vectors) or add user vectors to them."""
    found = view_kind(ws, view)
    if found is None:
        return
    held, made_by = found
    allowed = held in _REPLACES[kind]
    if allowed and kind == TEXT and held == IMPORTED_VECTORS:
        allowed = view not in ws.views("user") and view not in ws.parts("topk")
    if allowed:
        return
    raise ConfigError(
        f"view '{view}' holds {DESCRIPTION[held]} (made by `{made_by}`), and `{command}` writes {DESCRIPTION[kind]}: "
        f"write it to another view (--view NAME), or remove '{view}' first with `complement drop {view}`"
    )


#: the tables that hold parts named by a view
VIEW_TABLES = ("embeddings", "topk", "neighbors")


def drop_views(ws: Workspace, views: list[str]) -> dict[str, list[str]]:
    """Remove each view's vectors, top-K lists, neighbour lists and staged shards, all in one commit with a
    ``runs`` row per view (step ``drop``). Every name is checked before anything is removed: a name no table holds, a
    reserved ``truth_`` view or a repeated name is an error. ``runs`` keeps the views' rows (it is the log);
    what was made from a dropped view (a fusion, a probe) is stale from then on. Returns ``{view: [tables]}``."""
    from . import shards
    from .errors import WorkspaceError
    from .runs import RunRecord, recorded
    from .tables import RESERVED_PREFIX, check_view_name

    ws.check_exists()
    if not views:
        raise ConfigError("name at least one view to drop")
    for view in views:
        check_view_name(view)
        if view.startswith(RESERVED_PREFIX):
            raise ConfigError(
                f"view '{view}' cannot be dropped: names starting with '{RESERVED_PREFIX}' are a synthetic "
                "workspace's planted truth, which its diagnostics read"
            )
    if len(set(views)) != len(views):
        raise ConfigError(f"a view is named twice: {', '.join(views)}")
    held: dict[str, list[tuple[str, str]]] = {view: [] for view in views}
    for table in VIEW_TABLES:
        if not ws.has_table(table):
            continue
        parts = set(ws.parts(table))
        for view in views:
            if view in parts:
                held[view].append((table, view))
            held[view].extend((table, shards.part_name(view, s)) for s in shards.staged(ws, table, view))
    missing = [view for view, parts in held.items() if not parts]
    if missing:
        known = sorted({part for table in VIEW_TABLES if ws.has_table(table) for part in ws.parts(table)})
        raise WorkspaceError(
            f"no view {', '.join(repr(v) for v in missing)} in this workspace "
            f"(views: {', '.join(known) if known else 'none'})"
        )
    with ws.transaction() as txn:  # one commit, one runs row per view
        for view in views:
            tables = sorted({table for table, _ in held[view]})
            record = RunRecord(step="drop", view=view, params={"tables": tables}, made_by=f"complement drop {view}")
            with recorded(ws, record) as rec:
                for table, part in held[view]:
                    txn.delete(table, part)
                rec.rows = len(held[view])
    return {view: sorted({table for table, _ in parts}) for view, parts in held.items()}
