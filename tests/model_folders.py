"""A sentence-transformers model folder of the tests' own: the packaged MiniLM's files linked, not copied (91 MB)."""

from __future__ import annotations

import shutil
from pathlib import Path


def linked_model(target: Path, copied: tuple[str, ...] = ()) -> Path:
    """``target`` holding the packaged MiniLM's files as symbolic links, except those named in ``copied``, which
    are copies of their own (to be overwritten by a test)."""
    from complement.embed.encoder import resolve_model

    packaged = resolve_model(None).path
    for source in packaged.rglob("*"):
        if source.is_file():
            path = target / source.relative_to(packaged)
            path.parent.mkdir(parents=True, exist_ok=True)
            if source.name in copied:
                shutil.copyfile(source, path)
            else:
                path.symlink_to(source)
    return target
