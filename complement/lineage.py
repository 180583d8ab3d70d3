"""Stale results: a derived table whose inputs changed after it was made.

Each catalog entry records the fingerprints of the inputs it was read from (``lineage``). An entry is
stale when one of those inputs now has another fingerprint or is gone, or when an input is itself
stale. The deepest stale entry names the command that refreshes the chain."""

from __future__ import annotations

import dataclasses
import shlex
from dataclasses import dataclass

from .catalog import Catalog

_WHAT = {"topk": "top-K lists", "embeddings": "vectors", "neighbors": "neighbour lists", "probes": "probe results"}


@dataclass(frozen=True)
class Staleness:
    entry: str  # the deepest stale entry, e.g. "embeddings/lightgcn"
    changed: str  # the input of it that changed, e.g. "interactions" or "items#text"
    refresh: str  # the command that rebuilds ``entry`` (without -w: see ``command``)
    then: str = ""  # the command that rebuilds the entry asked about, when it is not ``entry`` (a fused view)
    gone: bool = False  # the input is no longer in the workspace (``complement drop``): make it again first

    def gone_input(self) -> str:
        """How a message names the input that is gone: ``view 'lightgcn'`` for ``embeddings/lightgcn``."""
        table, _, part = self.changed.partition("#")[0].partition("/")
        return f"view '{part}'" if part and table in _WHAT else f"table '{self.changed.partition('#')[0]}'"

    def commands(self, workspace: str | None = None) -> list[str]:
        """The refreshing commands in the order to run them, as one can paste them: with ``-w WORKSPACE`` when
        given (the workspace's folder is not recorded, since a workspace can be moved)."""
        return [
            f"{command} -w {shlex.quote(workspace)}" if workspace else command
            for command in dict.fromkeys((self.refresh, self.then))
            if command
        ]

    def command(self, workspace: str | None = None) -> str:
        """:meth:`commands` as one phrase of a message: "A` then `B" (the message adds the outer backquotes)."""
        return "` then `".join(self.commands(workspace))

    def message(self, name: str, part: str | None, workspace: str | None = None) -> str:
        subject = (
            f"view '{part}'"
            if part is not None and name != "probes"
            else f"table '{name if part is None else name + '/' + part}'"
        )
        table, _, view = self.entry.partition("/")
        what = _WHAT.get(table, f"'{table}' table")
        changed = self.changed.partition("#")[0]
        refresh = f"`{self.command(workspace)}`" if self.refresh else "the command that made it"
        if self.gone:
            return (
                f"{subject} is stale: its {what}{f' (view {view!r})' if view and view != part else ''} were made "
                f"from {self.gone_input()}, which is no longer in the workspace (dropped?): make it again, then "
                f"refresh with {refresh}; or pass --allow-stale"
            )
        return (
            f"{subject} is stale: its {what}{f' (view {view!r})' if view and view != part else ''} were made from "
            f"an older '{changed}' table than the workspace holds now; refresh it with {refresh}, or pass --allow-stale"
        )


def staleness(catalog: Catalog, key: str, _seen: frozenset[str] = frozenset()) -> Staleness | None:
    """Why ``key`` is stale (deepest cause first), or None."""
    entry = catalog.entries.get(key)
    if entry is None or key in _seen:
        return None
    for input_key in entry.lineage:
        base = input_key.partition("#")[0]
        if base != key and base in catalog.entries:
            deeper = staleness(catalog, base, _seen | {key})
            if deeper is not None:
                return deeper
    for input_key, fingerprint in entry.lineage.items():
        now = catalog.fingerprint_of(input_key)
        if now != fingerprint:
            return Staleness(key, input_key, entry.made_by, gone=now is None)
    return None


def staleness_with_own(catalog: Catalog, key: str) -> Staleness | None:
    """:func:`staleness` of ``key``, with the command that rebuilds ``key`` itself after the deepest one
    (a fused view is refreshed by retraining its stale source, then fusing again)."""
    found = staleness(catalog, key)
    entry = catalog.entries.get(key)
    if found is None or entry is None or found.entry == key or entry.made_by == found.refresh:
        return found
    return dataclasses.replace(found, then=entry.made_by)


#: the tables whose parts are views (a probe's part is its run)
_VIEW_TABLES = ("embeddings", "topk", "neighbors")


def stale_keys(catalog: Catalog) -> list[str]:
    """Every entry of the catalog that is stale now (:func:`staleness`), sorted."""
    return sorted(key for key in catalog.entries if staleness(catalog, key) is not None)


def stale_summary(catalog: Catalog) -> str | None:
    """Every stale entry as one phrase: each view with what of it is stale ("pop (vectors, top-K lists)"),
    then any other stale table (a probe's results); None when nothing is stale."""
    views: dict[str, list[str]] = {}
    others: list[str] = []
    for key in stale_keys(catalog):
        table, _, part = key.partition("/")
        if table in _VIEW_TABLES and part:
            views.setdefault(part, []).append(_WHAT[table])
        elif table == "probes" and part:
            others.append(f"probe run {part}")
        else:
            others.append(f"table '{key}'")
    named = [f"{view} ({', '.join(what)})" for view, what in sorted(views.items())]
    return "; ".join(filter(None, [", ".join(named), ", ".join(others)])) or None
