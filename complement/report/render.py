"""Turn :class:`ReportData` into one self-contained HTML page (inline SVG plots, no network) or
Markdown (tables only, for a README or a paper draft)."""

from __future__ import annotations

import html

from .. import __version__
from . import plot
from .explain import case_study_html, case_study_markdown, who_benefits_rows
from .figures import figures
from .formatting import fmt
from .gather import ReportData
from .reliability import MARK, NOTE, probe_key, probe_reasons, row_reason

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "div.wide{overflow-x:auto;max-width:100%;margin:.5em 0 1.5em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f3f3f3;white-space:nowrap}table.case td{text-align:left}"
    "tr.unreliable td{color:#999}p.note{font-size:12px;color:#777;margin-top:-1em}"
    "figure{display:inline-block;margin:.5em;vertical-align:top}figure svg{max-width:100%;height:auto}"
    "figcaption{font-size:12px;color:#555;max-width:560px}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
)


def _columns(rows: list[dict], drop: tuple[str, ...] = ("pair_a", "pair_b")) -> list[str]:
    return [c for c in (rows[0] if rows else {}) if c not in drop]


def _cells(row: dict, columns: list[str], why: str | None) -> list[str]:
    cells = [fmt(row.get(c), c) for c in columns]
    if why and cells:
        cells[0] = f"{MARK} {cells[0]}"
    return cells


def _footnote(reasons: list[str | None]) -> str:
    """ "† unreliable: n = 12 users; base = 0.003 (…)" for the marked rows of a table, or ""."""
    distinct = sorted({why for why in reasons if why})
    return f"{MARK} unreliable: {'; '.join(distinct)} ({NOTE.removeprefix(MARK + ' unreliable: ')})" if distinct else ""


def _html_table(rows: list[dict], columns: list[str] | None = None, reasons: list[str | None] | None = None) -> str:
    """A table in a container that scrolls sideways when wider than the page; unreliable rows greyed."""
    if not rows:
        return "<p><em>no rows</em></p>"
    columns = columns or _columns(rows)
    reasons = reasons if reasons is not None else [row_reason(r) for r in rows]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        (f'<tr class="unreliable" title="unreliable: {html.escape(why)}">' if why else "<tr>")
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(r, columns, why))
        + "</tr>"
        for r, why in zip(rows, reasons, strict=True)
    )
    note = _footnote(reasons)
    table = f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    return table + (f'<p class="note">{html.escape(note)}</p>' if note else "")


def _md_table(rows: list[dict], columns: list[str] | None = None, reasons: list[str | None] | None = None) -> str:
    if not rows:
        return "_no rows_\n"
    columns = columns or _columns(rows)
    reasons = reasons if reasons is not None else [row_reason(r) for r in rows]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_cells(r, columns, why)) + " |" for r, why in zip(rows, reasons, strict=True)]
    note = _footnote(reasons)
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


TABLES = (
    ("Metrics", "metrics", "Accuracy of every view, averaged over evaluated users."),
    ("Seeds", "seed_summary", "Mean ± sample std over seeds of each view's accuracy (views named NAME-sSEED)."),
    ("Overlap", "overlap", "Per-user overlap of the two views' top-K lists."),
    ("Unique hits", "unique_hits", "Hits found by both views or by one only."),
    ("User complementarity", "user_complementarity", "Users by which views hit."),
    ("Oracle fusion", "oracle", "Oracle bounds and their gain over the better single view."),
    ("Popularity groups", "by_popularity", "Metrics per item popularity group."),
    ("Item agreement", "item_agreement", "Nearest-neighbour agreement of the views against a permutation null."),
    ("Coverage", "coverage", "Catalogue coverage, exposure Gini and popularity of what each view recommends."),
    ("Fusion vs alignment", "fusion_gap", "Fused and aligned views against the oracle."),
)


WHO_BENEFITS_ABOUT = (
    "Per user-activity decile (1 = least active) and popularity taste (terciles of the mean "
    "ln-popularity of the history): each view's recall, the union's, and the share of users only one view hits."
)


def _probe_rows(data: ReportData) -> tuple[list[dict], list[str | None]]:
    """The probe metrics shown, and for each row why it is unreliable (recall drops over a tiny base)."""
    keep = (
        "r2",
        "cosine",
        "knn_jaccard",
        "cka",
        "recall_drop",
        "recall_drop_normmatched",
        "recall_drop_cos",
        "rec_jaccard",
    )
    shown = [p for p in data.probes if p["metric"] in keep and p["item_set"] in ("fit", "held_out", "all")]
    reasons = probe_reasons(data.probes)
    rows = [
        {
            "mapper": p["mapper"],
            "shift": p["shift"],
            "item_set": p["item_set"],
            "metric": p["metric"],
            "mean": p["mean"],
            "std": p["std"],
            "seeds": p["n_seeds"],
        }
        for p in shown
    ]
    return rows, [reasons.get(probe_key(p)) for p in shown]


def _figure_html(data: ReportData) -> list[str]:
    """The plots section: inline SVG per figure, or once a line saying how to get them."""
    shown = figures(data)
    if not shown:
        return []
    if not plot.available():
        return ["<h2>Plots</h2>", f'<p class="missing-plots">{html.escape(plot.INSTALL_HINT, quote=False)}.</p>']
    parts = ["<h2>Plots</h2>"]
    for figure in shown:
        caption = html.escape(figure.caption) + (f"<br>{html.escape(figure.footnote())}" if figure.footnote() else "")
        parts.append(
            f'<figure data-section="{html.escape(figure.section)}" data-name="{figure.name}">'
            f"{plot.inline_svg(figure)}<figcaption>{caption}</figcaption></figure>"
        )
    return parts


def to_html(data: ReportData) -> str:
    """The page. It carries no date, so the same workspace gives the same bytes."""
    title = f"complement report — {data.workspace.root.name}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Generated by complement {__version__}. "
        + (
            f"Views compared: <b>{html.escape(data.pair[0])}</b> (A) and <b>{html.escape(data.pair[1])}</b> (B)."
            if data.pair
            else html.escape(data.note)
        )
        + "</p>",
        "<h2>Dataset</h2>",
        _html_table([data.summary]),
        _html_table(data.splits),
        *_figure_html(data),
    ]
    for heading, name, about in TABLES:
        rows = data.results.get(name)
        if rows:
            parts += [
                f"<h2>{heading}</h2>",
                f"<p>{html.escape(about)} <code>complement diagnose --sql {name}</code></p>",
                _html_table(rows),
            ]
    who = who_benefits_rows(data)
    if who:
        parts += [
            "<h2>Who benefits</h2>",
            f"<p>{html.escape(WHO_BENEFITS_ABOUT)} <code>complement diagnose --sql who_benefits</code></p>",
            _html_table(who),
        ]
    case = case_study_html(data)
    if case:
        parts += ["<h2>Case study</h2>", case]
    if data.probes:
        rows, reasons = _probe_rows(data)
        parts += [
            "<h2>Alignment probes</h2>",
            "<p>Mean ± std over seeds (<code>probe_summary</code>).</p>",
            _html_table(rows, reasons=reasons),
        ]
    if data.runs:
        parts += ["<h2>Runs</h2>", _html_table(data.runs)]
    parts.append("</body></html>")
    return "\n".join(parts)


def to_markdown(data: ReportData) -> str:
    out = [f"# complement report — {data.workspace.root.name}", ""]
    if data.pair:
        out += [f"Views compared: **{data.pair[0]}** (A) and **{data.pair[1]}** (B).", ""]
    elif data.note:
        out += [data.note, ""]
    out += ["## Dataset", "", _md_table([data.summary]), _md_table(data.splits)]
    for heading, name, about in TABLES:
        rows = data.results.get(name)
        if rows:
            out += [f"## {heading}", "", about, "", _md_table(rows)]
    who = who_benefits_rows(data)
    if who:
        out += ["## Who benefits", "", WHO_BENEFITS_ABOUT, "", _md_table(who)]
    case = case_study_markdown(data)
    if case:
        out += ["## Case study", "", case]
    if data.probes:
        rows, reasons = _probe_rows(data)
        out += ["## Alignment probes", "", _md_table(rows, reasons=reasons)]
    return "\n".join(out)
