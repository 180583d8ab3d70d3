"""Draw a :class:`~.figures.Figure` with matplotlib (the optional extra ``complement[report]``).

Figures are built on matplotlib's object API with the Agg canvas (no pyplot, no GUI backend, no global
figure state) and saved with fixed settings so that the same numbers give the same bytes: a fixed
``svg.hashsalt`` for the SVG element ids and no dates in the SVG or PDF metadata. Labels never
overlap: constrained layout, tick labels rotated when long, and the legend outside the axes."""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING, Any

from .figures import Figure
from .reliability import MARK

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

INSTALL_HINT = "plots need matplotlib: pip install 'complement[report]'"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SIZE = (5.6, 3.4)  # inches: two figures side by side on a wide page
FORMATS = ("pdf", "svg")
_SETTINGS: dict[str, Any] = {
    "svg.hashsalt": "complement",  # ids derived from the content, not random
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "axes.axisbelow": True,
}
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}


def available() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _values(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _legend(fig: MplFigure, ax: Any, n: int) -> None:
    if n > 1:
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=min(n, 5), frameon=False)


def _bars(ax: Any, figure: Figure) -> None:
    cats = figure.categories
    unreliable = figure.unreliable or [None] * len(cats)
    n = len(figure.series)
    width = 0.8 if figure.stacked else 0.8 / max(n, 1)
    bottom = [0.0] * len(cats)
    for i, (name, values) in enumerate(figure.series.items()):
        ys = _values(values)
        offset = 0.0 if figure.stacked else (i - (n - 1) / 2) * width
        xs = [j + offset for j in range(len(cats))]
        errors = figure.error.get(name)
        bars = ax.bar(
            xs,
            ys,
            width * 0.92,
            bottom=bottom if figure.stacked else None,
            color=PALETTE[i % len(PALETTE)],
            label=name,
            yerr=[0.0 if e is None else e for e in errors] if errors and not figure.stacked else None,
            error_kw={"elinewidth": 0.8, "capsize": 2},
        )
        for bar, why in zip(bars, unreliable, strict=True):
            if why:  # a thin group: faded and hatched, so it does not read as a result
                bar.set_alpha(0.35)
                bar.set_hatch("///")
        if figure.stacked:
            bottom = [b + (0.0 if math.isnan(y) else y) for b, y in zip(bottom, ys, strict=True)]
    labels = [f"{c} {MARK}" if why else str(c) for c, why in zip(cats, unreliable, strict=True)]
    long = len(cats) > 4 or max((len(label) for label in labels), default=0) > 10
    ax.set_xticks(range(len(cats)), labels, rotation=30 if long else 0, ha="right" if long else "center")
    pad = max(0, 3 - len(cats)) / 2  # one or two groups: bars as wide as in a three-group chart, centred
    ax.set_xlim(-0.5 - pad, len(cats) - 0.5 + pad)
    if any(v < 0 for values in figure.series.values() for v in _values(values) if not math.isnan(v)):
        ax.axhline(0, color="#333333", linewidth=0.8)


def draw(figure: Figure) -> MplFigure:
    """The matplotlib figure of ``figure`` (on an Agg canvas; call inside :func:`_settings`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=SIZE, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if figure.kind == "line":
        for i, (name, values) in enumerate(figure.series.items()):
            ax.plot(figure.categories, _values(values), marker="o", color=PALETTE[i % len(PALETTE)], label=name)
        ax.set_xticks(figure.categories)
        if all(v >= 0 for values in figure.series.values() for v in _values(values) if not math.isnan(v)):
            ax.set_ylim(bottom=0)
    else:
        _bars(ax, figure)
    ax.set_title(figure.title, fontweight="bold")
    ax.set_ylabel(figure.y_label)
    if figure.x_label:
        ax.set_xlabel(figure.x_label)
    _legend(fig, ax, len(figure.series))
    return fig


def _settings(fonttype: str) -> Any:
    import matplotlib

    settings: Any = {**_SETTINGS, "svg.fonttype": fonttype}
    return matplotlib.rc_context(settings)


def render(figure: Figure, fmt: str, text_as_paths: bool = True) -> bytes:
    """``figure`` as PDF or SVG bytes, the same bytes for the same figure."""
    with _settings("path" if text_as_paths else "none"):
        fig = draw(figure)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


def inline_svg(figure: Figure) -> str:
    """An ``<svg>`` element to paste into HTML: no XML prolog, text as text (small, searchable), and
    element ids prefixed with the figure's name so that several figures on one page never share one."""
    text = render(figure, "svg", text_as_paths=False).decode("utf-8")
    text = text[text.index("<svg") :]
    prefix = f"{figure.name}-"
    for ident in sorted(set(re.findall(r'\bid="([^"]+)"', text)), key=len, reverse=True):
        text = text.replace(f'id="{ident}"', f'id="{prefix}{ident}"').replace(f"#{ident}", f"#{prefix}{ident}")
    return text.strip()
