"""Where an export may write: never inside the workspace's ``tables/`` nor onto ``complement.toml``
(``..`` and symlinks resolved); files through the package's one output check."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..outputs import check_output_path
from ..workspace import Workspace


def check_out_path(ws: Workspace, out: Path, option: str = "--out") -> Path:
    """``out`` resolved, after refusing it as an output; ``option`` other than ``--out`` names a folder to fill."""
    if option == "--out":
        check_output_path(ws, out, option)
    else:
        target, tables_dir = Path(out).expanduser().resolve(), ws.tables_dir.resolve()
        if (
            target == tables_dir
            or tables_dir in target.parents
            or (tables_dir.is_relative_to(target) and target.exists())
        ):
            raise ConfigError(f"{option} {out} is inside (or holds) the workspace's tables folder; write it elsewhere")
    return Path(out).expanduser().resolve()
