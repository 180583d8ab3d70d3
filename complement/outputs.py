"""Where a command's output option may write.

Only the workspace layer writes inside ``<workspace>/tables/``, only ``complement run`` inside
``<workspace>/results/`` (the stored diagnostics the report reads, with their lineage), and
``complement.toml`` is the experiment's declaration; an ``--out`` file must be none of them. Every
command with an output option calls :func:`check_output_path` before it does any work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import file_in_the_way
from .errors import ConfigError

#: the folder of a workspace where ``complement run`` stores its diagnostics (and their lineage)
RESULTS_DIR = "results"

if TYPE_CHECKING:
    from .workspace import Workspace


def _real(path: str | os.PathLike) -> Path:
    """``path`` absolute, with ``~``, ``..`` and every symlink (of the existing part) resolved."""
    return Path(os.path.realpath(Path(path).expanduser()))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_path(workspace: Workspace, path: str | os.PathLike, option: str = "--out") -> Path:
    """Refuse an output path inside the workspace's tables or results folder or onto its ``complement.toml``
    (after resolving symlinks and ``..``); return the path as given."""
    target = _real(path)
    tables_dir = _real(workspace.tables_dir)
    if _inside(target, tables_dir):
        raise ConfigError(
            f"{option} {path} is inside the workspace's tables folder ({tables_dir}), which only complement's own "
            "commands write; choose a file elsewhere"
        )
    results_dir = _real(workspace.root / RESULTS_DIR)
    if _inside(target, results_dir):
        raise ConfigError(
            f"{option} {path} is inside the workspace's results folder ({results_dir}), where `complement run` "
            "keeps the stored diagnostics the report reads; choose a file elsewhere"
        )
    if target == _real(workspace.config_path):
        raise ConfigError(
            f"{option} {path} would overwrite the workspace's {workspace.config_path.name}; choose another file"
        )
    if target.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name")
    if (blocker := file_in_the_way(path)) is not None:
        raise ConfigError(f"{option} {path}: {blocker} is a file, not a folder; choose a file in a folder")
    return Path(path)
