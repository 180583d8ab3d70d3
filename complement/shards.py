"""Sharded steps: ``complement topk --shard I/N`` computes one part of a view, N processes (one per GPU,
or one per machine on a shared file system) together compute all of it.

Shard I of N commits its rows as its own catalog entry ``topk/<view>@IofN`` (hidden from
``ws.parts`` and from readers of the whole table) under its own lock, so the N processes run side by
side. The one that commits last finds all N entries and commits them as the view's single entry,
whose files are the N parts in shard order (no copying); the shard entries go in the same commit.
Shards of another N, computed from other inputs, or written with other settings (topk's k and
exclude), are refused: their parts would not fit together.
Users are split in contiguous ``user_idx`` ranges, so the merged view's files are user buckets in
order, as a large unsharded view's are (docs/design.md, Storage)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from . import catalog as cat
from .errors import ComplementError, ConfigError, StaleError

if TYPE_CHECKING:
    from .workspace import Workspace

# a shard's part name: the view, '@', and "IofN" ('@' is never in a view name)
MARK = "@"
_SHARD_PART = re.compile(r"^(?P<view>[a-z0-9_-]+)@(?P<i>[0-9]+)of(?P<n>[0-9]+)$")
_SHARD_ARG = re.compile(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$")


def read(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)`` when the text reads as two plain integers with a slash (the CLI's parser runs it:
    other text is a usage error); whether I and N make a shard is :func:`parse`'s to check."""
    match = _SHARD_ARG.match(text)
    if not match:
        raise ConfigError(f"--shard expects I/N (e.g. 1/4: the first of 4 shards), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"I/N"`` (1 <= I <= N) as ``(I, N)``; None stays None."""
    shard = text if text is None or isinstance(text, tuple) else read(text)
    if shard is not None and not 1 <= shard[0] <= shard[1]:
        raise ComplementError(f"--shard {shard[0]}/{shard[1]}: I must be between 1 and N")
    return shard


def part_name(view: str, shard: tuple[int, int]) -> str:
    return f"{view}{MARK}{shard[0]}of{shard[1]}"


def is_shard_part(part: str) -> bool:
    return _SHARD_PART.match(part) is not None


def rows_of(shard: tuple[int, int], n_rows: int) -> tuple[int, int]:
    """The contiguous range [lo, hi) of rows (users by user_idx) that shard I of N computes."""
    i, n = shard
    return (i - 1) * n_rows // n, i * n_rows // n


def staged(ws: Workspace, name: str, view: str) -> dict[tuple[int, int], cat.Entry]:
    """The committed shard entries of ``view`` in table ``name``: {(I, N): entry}."""
    found = {}
    for key, entry in ws.catalog().entries.items():
        table, _, part = key.partition("/")
        match = _SHARD_PART.match(part) if table == name else None
        if match and match.group("view") == view:
            found[(int(match.group("i")), int(match.group("n")))] = entry
    return found


def _inputs_now(ws: Workspace, inputs: list[str]) -> dict[str, str]:
    catalog = ws.catalog()
    return {key: catalog.fingerprint_of(key) or "" for key in inputs}


#: the step whose ``runs`` rows record a shard of each sharded table, and the command that rewrites the view whole
_STEPS = {"topk": ("topk", "complement topk"), "embeddings": ("embed", "complement embed")}


def _settings_of(ws: Workspace, name: str, parts: list[str], keys: list[str]) -> dict[str, dict[str, Any]]:
    """The ``keys`` of the settings each staged shard (part) was written with, from its latest ``runs`` row
    (committed with the shard); a shard without one is left out."""
    if not parts or not keys or not ws.has_table("runs"):
        return {}
    rows = ws.query(
        "SELECT view, params FROM runs WHERE step = $step AND list_contains($parts, view) ORDER BY finished_at",
        {"step": _STEPS[name][0], "parts": parts},
    ).to_pylist()
    found = {}
    for row in rows:  # the latest row of a part wins
        params = json.loads(row["params"] or "{}")
        found[row["view"]] = {key: params.get(key) for key in keys}
    return found


def _render(settings: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings.items())


def check_can_add(
    ws: Workspace,
    name: str,
    view: str,
    shard: tuple[int, int],
    inputs: list[str],
    settings: dict[str, Any] | None = None,
) -> list[tuple[int, int]]:
    """Refuse shard I/N of ``view`` when current shards of another N are staged, or other current staged
    shards were written with other ``settings`` (those that decide the rows, as topk's k and exclude: a
    view's shards must fit together), before anything is computed.

    Staged shards made from inputs that have changed since are out of date, whatever their N or settings:
    they are returned (this shard's own earlier copy aside, which its write replaces) for the caller to
    drop in the transaction that stages this shard (:func:`drop`), so a rerun after the inputs changed
    restarts the staging instead of being refused by the shards it is meant to replace."""
    now = {k: v for k, v in _inputs_now(ws, inputs).items() if v}
    command = _STEPS[name][1]
    found = staged(ws, name, view)
    outdated = sorted(key for key, entry in found.items() if entry.lineage != now)
    found = {key: entry for key, entry in found.items() if key not in outdated}
    for i, n in sorted(found):
        if n != shard[1]:
            raise ComplementError(
                f"view '{view}' has shard {i}/{n} of '{name}' staged: run every shard with the same N "
                f"(--shard I/{n}), or remove the staged shards with `{command} --view {view}` (unsharded)"
            )
    settings = settings or {}
    others = sorted(key for key in found if key != shard)  # a shard written again replaces itself
    written = _settings_of(ws, name, [part_name(view, key) for key in others], list(settings))
    for i, n in others:
        earlier = written.get(part_name(view, (i, n)))
        if earlier is not None and earlier != settings:
            raise ConfigError(
                f"shard {i}/{n} of view '{view}' was written with {_render(earlier)}, this one would be "
                f"{_render(settings)}: run every shard with the same settings, or write the view unsharded "
                f"with `{command} --view {view}`"
            )
    return [key for key in outdated if key != shard]


def outdated_note(name: str, view: str, dropped: list[tuple[int, int]]) -> str:
    """The note a shard prints after it dropped the staged shards that were out of date."""
    listed = ", ".join(f"{i}/{n}" for i, n in dropped)
    return (
        f"note: dropped staged shard(s) {listed} of view '{view}' ({name}): computed from inputs that have changed "
        "since; run them again"
    )


def merge(ws: Workspace, name: str, view: str, made_by: str) -> bool:
    """Commit the N shard entries of ``view`` as its single entry when all N are there (True), else
    leave them (False). Merges are serialised by a lock of their own, taken before the catalog is
    read, so of shards finishing together the last to get it sees every part."""
    with cat.flock(ws.tables_dir / cat.LOCKS_DIR / f"merge-{name}-{view}", blocking=True, what=f"view '{view}'"):
        parts = staged(ws, name, view)
        if not parts:
            return False
        n = next(iter(parts))[1]
        if sorted(parts) != [(i, n) for i in range(1, n + 1)]:
            return False
        entries = [parts[(i, n)] for i in range(1, n + 1)]
        if any(e.lineage != entries[0].lineage for e in entries):
            raise StaleError(f"the {n} shards of view '{view}' were computed from different inputs; run them again")
        with ws.transaction(view=view) as txn:
            txn.adopt(
                name,
                view,
                cat.Entry(
                    files=[f for e in entries for f in e.files],
                    fingerprint=cat.combine(e.fingerprint for e in entries),
                    lineage=dict(entries[0].lineage),
                    made_by=made_by,
                    sizes={f: size for e in entries for f, size in e.sizes.items()},
                ),
            )
            for i in range(1, n + 1):
                # no shard lock: a shard that has committed may not have released its lock yet
                txn.delete(name, part_name(view, (i, n)), lock=False)
        return True


def drop(ws: Workspace, name: str, view: str, only: list[tuple[int, int]] | None = None) -> None:
    """Remove the staged shards of ``view`` (an unsharded write of the view replaces them), or those in
    ``only`` (the out-of-date ones :func:`check_can_add` returned)."""
    parts = [key for key in staged(ws, name, view) if only is None or key in only]
    if parts:
        with ws.transaction() as txn:
            for shard in parts:
                txn.delete(name, part_name(view, shard))
