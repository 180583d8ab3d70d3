"""``complement report``: the workspace's numbers as one self-contained HTML page or Markdown."""

from __future__ import annotations

from pathlib import Path

from .. import atomic
from ..workspace import Workspace
from .gather import ReportData, collect
from .render import to_html, to_markdown


def write_report(
    ws: Workspace,
    out: str | Path | None = None,
    fmt: str = "html",
    pair: tuple[str, str] | None = None,
    ks: list[int] | None = None,
    allow_stale: bool = False,
) -> Path:
    """Write the report (atomically) and return its path; default ``report.html`` / ``report.md`` in the
    workspace. Stale views are refused unless ``allow_stale``."""
    data = collect(ws, pair, ks, allow_stale)
    text = to_html(data) if fmt == "html" else to_markdown(data)
    path = Path(out) if out else ws.root / ("report.html" if fmt == "html" else "report.md")
    atomic.write_text(text, path)
    return path


__all__ = ["ReportData", "collect", "to_html", "to_markdown", "write_report"]
