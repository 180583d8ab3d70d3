"""``complement report``: the workspace's numbers as one self-contained HTML page or Markdown, and
optionally each figure as PDF and SVG files for a paper."""

from __future__ import annotations

from pathlib import Path

from .. import atomic
from ..errors import ConfigError
from ..outputs import check_output_path
from ..progress import message
from ..workspace import Workspace
from . import plot
from .figures import Figure, figures
from .gather import ReportData, collect
from .render import to_html, to_markdown


def check_figures_dir(ws: Workspace, folder: str | Path) -> Path:
    """Refuse a ``--figures`` folder that is a file, lies in the workspace's tables folder, or cannot be
    drawn (matplotlib missing); return it as a Path."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--figures {folder} is a file; give a folder")
    check_output_path(ws, folder / "figure.svg", "--figures")  # any file in it: not in tables/
    if not plot.available():
        raise ConfigError(f"--figures: {plot.INSTALL_HINT}")
    return folder


def write_figures(data: ReportData, folder: str | Path) -> list[Path]:
    """Write every figure of ``data`` as ``<folder>/<name>.pdf`` and ``.svg`` (atomically, the same
    bytes for the same numbers); return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for figure in figures(data):
        for fmt in plot.FORMATS:
            paths.append(atomic.write_bytes(plot.render(figure, fmt), folder / f"{figure.name}.{fmt}"))
    return paths


def write_report(
    ws: Workspace,
    out: str | Path | None = None,
    fmt: str = "html",
    pair: tuple[str, str] | None = None,
    ks: list[int] | None = None,
    allow_stale: bool = False,
    figures_dir: str | Path | None = None,
) -> Path:
    """Write the report (atomically) and return its path; default ``report.html`` / ``report.md`` in the
    workspace. Stale views are refused unless ``allow_stale``. With ``figures_dir``, also each figure as
    PDF and SVG there (checked before anything is written). Without matplotlib the HTML page has its
    tables and, once, a line on how to get the plots (also said on stderr)."""
    if out is not None:
        check_output_path(ws, out)
    if figures_dir is not None:
        check_figures_dir(ws, figures_dir)
    data = collect(ws, pair, ks, allow_stale)
    text = to_html(data) if fmt == "html" else to_markdown(data)
    path = Path(out) if out else ws.root / ("report.html" if fmt == "html" else "report.md")
    if fmt == "html" and figures(data) and not plot.available():
        message(f"note: the report has its tables only; {plot.INSTALL_HINT}")
    atomic.write_text(text, path)
    if figures_dir is not None:
        write_figures(data, figures_dir)
    return path


__all__ = ["Figure", "ReportData", "collect", "figures", "to_html", "to_markdown", "write_figures", "write_report"]
