"""The contents (SHA-256) of the files a run reads from outside the workspace, remembered with their status.

A step that reads a dataset or imported files records, beside its run, each file's SHA-256 and its status:
size, modification time and status-change time in nanoseconds, and inode (:func:`status`). A later run
compares the status of now with the one recorded: equal, the file was not written since (the status-change
time moves with every write through the file system and cannot be set back by ``touch``, ``cp -p`` or
``rsync -t``; a write through a shared memory map may move neither time); otherwise the file
is hashed, and its contents decide. Hashes are remembered in the workspace's ``cache/input-digests.json`` under
the file's path and status, so a file hashed once (touched, copied, moved with the workspace) is not read again
while its status stays as it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .. import atomic
from ..catalog import file_digest

#: the workspace cache file (under ``Workspace.cache_dir``)
CACHE_NAME = "input-digests.json"


def status(path: Path) -> list[int]:
    """[size, modification time (ns), status-change time (ns), inode] of a file."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _entry(value: object) -> bool:
    """A remembered hash as :meth:`Digests.save` writes it: [size, mtime_ns, ctime_ns, inode, SHA-256]."""
    return (
        isinstance(value, list)
        and len(value) == 5
        and isinstance(value[4], str)
        and all(type(x) is int for x in value[:4])
    )


class Digests:
    """File hashes remembered by path and status: :meth:`digest` reads a file only when its status is not the
    one remembered. ``path`` is the cache file (None: remember for this process only); :meth:`save` writes the
    hashes looked up since it was loaded, so the file holds the inputs of the workspace's last run only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._known: dict[str, list] = {}
        self._used: dict[str, list] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}  # none, unreadable or damaged: only a cache, everything is hashed again
            if isinstance(data, dict):
                self._known = {k: v for k, v in data.items() if _entry(v)}

    def digest(self, path: Path) -> str:
        """The SHA-256 of ``path``'s bytes, hashed unless remembered with the status the file has now."""
        key = os.path.abspath(path)
        before = status(path)
        hit = self._known.get(key)
        if hit is not None and hit[:4] == before:
            self._used[key] = hit
            return hit[4]
        value = file_digest(path)
        if status(path) == before:  # not written while it was read: remember it
            self._known[key] = self._used[key] = [*before, value]
        return value

    def save(self) -> None:
        """Write the hashes looked up since loading (atomically; a workspace that cannot be written keeps none)."""
        if self.path is None or not self._used:
            return
        try:
            atomic.write_text(json.dumps(self._used, indent=0, sort_keys=True), self.path)
        except OSError:
            pass
