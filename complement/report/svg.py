"""Small dependency-free SVG charts (line, grouped bar, stacked bar) for the self-contained report.

Plain inline SVG: readable without a network, without JavaScript, and crisp in print."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
WIDTH, HEIGHT = 560, 320
MARGIN = {"left": 58, "right": 16, "top": 34, "bottom": 64}


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.floor(lo / step) * step
    ticks, value = [], start
    while value <= hi + step * 0.5:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


class _Frame:
    def __init__(self, title: str, y_label: str, lo: float, hi: float):
        self.ticks = _nice_ticks(min(lo, 0.0) if lo >= 0 else lo, hi)
        self.lo, self.hi = self.ticks[0], self.ticks[-1]
        self.x0, self.x1 = MARGIN["left"], WIDTH - MARGIN["right"]
        self.y0, self.y1 = HEIGHT - MARGIN["bottom"], MARGIN["top"]
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'role="img" aria-label="{_esc(title)}" font-family="sans-serif" font-size="11">',
            f"<title>{_esc(title)}</title>",
            f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">{_esc(title)}</text>',
            f'<text transform="translate(14 {(self.y0 + self.y1) / 2}) rotate(-90)" '
            f'text-anchor="middle">{_esc(y_label)}</text>',
        ]
        for t in self.ticks:
            y = self.y(t)
            self.parts.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            self.parts.append(f'<text x="{self.x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
        self.parts.append(
            f'<line x1="{self.x0}" x2="{self.x1}" '
            f'y1="{self.y(max(self.lo, 0) if self.lo < 0 < self.hi else self.lo):.1f}" '
            f'y2="{self.y(max(self.lo, 0) if self.lo < 0 < self.hi else self.lo):.1f}" stroke="#333"/>'
        )

    def y(self, value: float) -> float:
        return self.y0 - (value - self.lo) / (self.hi - self.lo) * (self.y0 - self.y1)

    def legend(self, names: Sequence[str]) -> None:
        x = self.x0
        y = HEIGHT - 14
        for i, name in enumerate(names):
            self.parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
            self.parts.append(f'<text x="{x + 14}" y="{y}">{_esc(name)}</text>')
            x += 24 + 7 * len(str(name))

    def close(self) -> str:
        return "\n".join([*self.parts, "</svg>"])


def line_chart(
    title: str,
    x_values: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    y_label: str = "",
    x_label: str = "",
) -> str:
    """One line per series over shared numeric ``x_values``."""
    values = [v for ys in series.values() for v in ys if v is not None and math.isfinite(v)]
    frame = _Frame(title, y_label, min(values, default=0.0), max(values, default=1.0))
    xs = list(x_values)
    lo, hi = min(xs, default=0), max(xs, default=1)
    span = (hi - lo) or 1

    def px(x):
        return frame.x0 + 20 + (x - lo) / span * (frame.x1 - frame.x0 - 40)

    for x in xs:
        frame.parts.append(f'<text x="{px(x):.1f}" y="{frame.y0 + 16}" text-anchor="middle">{_fmt(x)}</text>')
    frame.parts.append(
        f'<text x="{(frame.x0 + frame.x1) / 2}" y="{frame.y0 + 32}" text-anchor="middle">{_esc(x_label)}</text>'
    )
    for i, ys in enumerate(series.values()):
        color = PALETTE[i % len(PALETTE)]
        points = [(px(x), frame.y(y)) for x, y in zip(xs, ys, strict=True) if y is not None and math.isfinite(y)]
        if points:
            frame.parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                f'points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in points)}"/>'
            )
            for a, b in points:
                frame.parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>')
    frame.legend(list(series))
    return frame.close()


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    y_label: str = "",
    stacked: bool = False,
    error: Mapping[str, Sequence[float | None]] | None = None,
) -> str:
    """Grouped (or stacked) bars: one group per category, one bar (or segment) per series."""
    cats = list(categories)
    if stacked:
        totals = [sum((series[s][j] or 0.0) for s in series) for j in range(len(cats))]
        lo, hi = 0.0, max(totals, default=1.0)
    else:
        values = [v for ys in series.values() for v in ys if v is not None and math.isfinite(v)]
        extra = [
            v + e
            for s, ys in (error or {}).items()
            # an error series without its value series draws no bars
            for v, e in zip(series.get(s, []), ys, strict=False)
            if v is not None and e is not None
        ]
        lo, hi = min([*values, 0.0]), max(values + extra, default=1.0)
    frame = _Frame(title, y_label, lo, hi)
    group_width = (frame.x1 - frame.x0) / max(len(cats), 1)
    n = len(series)
    bar_width = group_width * 0.8 / (1 if stacked else max(n, 1))
    zero = frame.y(max(frame.lo, 0.0))
    for j, cat in enumerate(cats):
        gx = frame.x0 + j * group_width + group_width * 0.1
        frame.parts.append(
            f'<text x="{gx + group_width * 0.4:.1f}" y="{frame.y0 + 16}" text-anchor="middle">{_esc(cat)}</text>'
        )
        base = 0.0
        for i, (name, ys) in enumerate(series.items()):
            value = ys[j]
            if value is None or not math.isfinite(value):
                continue
            color = PALETTE[i % len(PALETTE)]
            if stacked:
                top, bottom = frame.y(base + value), frame.y(base)
                x = gx
                base += value
            else:
                top, bottom = (frame.y(value), zero) if value >= 0 else (zero, frame.y(value))
                x = gx + i * bar_width
            frame.parts.append(
                f'<rect x="{x:.1f}" y="{min(top, bottom):.1f}" width="{bar_width * 0.92:.1f}" '
                f'height="{abs(bottom - top):.1f}" '
                f'fill="{color}"><title>{_esc(name)} · {_esc(cat)}: {value:.4g}</title></rect>'
            )
            if error and not stacked and error.get(name) and (e := error[name][j]):
                cx = x + bar_width * 0.46
                frame.parts.append(
                    f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{frame.y(value - e):.1f}" y2="{frame.y(value + e):.1f}" '
                    'stroke="#000"/>'
                )
    frame.legend(list(series))
    return frame.close()
