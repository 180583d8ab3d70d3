"""Where an export may write: never inside the workspace's ``tables/`` nor onto ``complement.toml``.

A small private check (``..`` and symlinks resolved) until the package has one shared output-path check."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..workspace import Workspace


def check_out_path(ws: Workspace, out: Path, option: str = "--out") -> Path:
    target = Path(out).expanduser().resolve()
    tables_dir = ws.tables_dir.resolve()
    if target == tables_dir or tables_dir in target.parents:
        raise ConfigError(f"{option} {out} is inside the workspace's tables/ folder; write it elsewhere")
    if target == ws.config_path.resolve():
        raise ConfigError(f"{option} {out} would overwrite the workspace's complement.toml; write it elsewhere")
    if target.is_dir() and option == "--out":
        raise ConfigError(f"{option} {out} is a folder; give a file name")
    return target
