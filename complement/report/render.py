"""Turn :class:`ReportData` into one self-contained HTML page (inline SVG plots, no network) or
Markdown (tables only, for a README or a paper draft)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from .. import __version__
from ..lineage import Staleness
from . import plot
from .commands import diagnose_command
from .explain import case_study_html, case_study_markdown, who_benefits_rows
from .figures import figures
from .formatting import fmt, md_code, places
from .gather import PAIR_DIAGNOSTICS, ReportData
from .reliability import MARK, NOTE, probe_key, probe_reasons, row_flags
from .staleness import STALE_MARK, STALE_WHAT, cause, section_mark, section_note, stale_view, top_note

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "div.wide{overflow-x:auto;max-width:100%;margin:.5em 0 1.5em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f3f3f3;white-space:nowrap}table.case td{text-align:left}"
    "tr.unreliable td{color:#999}p.note{font-size:12px;color:#777;margin-top:-1em}"
    "tr.stale td{background:#fff3dc}p.stale{background:#fff3dc;border:1px solid #e5b567;padding:.5em .8em}"
    "figure{display:inline-block;margin:.5em;vertical-align:top}figure svg{max-width:100%;height:auto}"
    "figcaption{font-size:12px;color:#555;max-width:560px}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}"
)


def _columns(rows: list[dict], drop: tuple[str, ...] = ("pair_a", "pair_b")) -> list[str]:
    return [c for c in (rows[0] if rows else {}) if c not in drop]


@dataclass
class _Table:
    """A table's cells as printed, each row with why it is unreliable and why it is stale (or None), and the
    footnotes under it. HTML and Markdown print the same cells."""

    columns: list[str]
    cells: list[list[str]]
    unreliable: list[str | None]
    stale: list[str | None]
    notes: list[str]


def _prepare(
    rows: list[dict],
    columns: list[str] | None = None,
    flags: list[dict[str, str]] | None = None,
    stale: Callable[[str], Staleness | None] | None = None,
) -> _Table:
    """The cells of ``rows``: each column's floats with the same decimals; a value too thin to read marked
    :data:`MARK` where it stands (``flags``: per row, column -> why; by default :func:`row_flags`, and a flag
    on a column not shown lands on the row's first label); a view that ``stale`` names marked
    :data:`STALE_MARK` in the ``view`` column."""
    columns = columns or _columns(rows)
    flags = flags if flags is not None else [row_flags(r) for r in rows]
    decimals = {c: places(r.get(c) for r in rows) for c in columns}
    label = next((c for c in columns if c != "k"), columns[0])
    cells, unreliable, stale_rows = [], [], []
    for row, flagged in zip(rows, flags, strict=True):
        line = [fmt(row.get(c), c, decimals[c]) for c in columns]
        for column in dict.fromkeys(c if c in columns else label for c in flagged):
            i = columns.index(column)
            line[i] = f"{line[i]} {MARK}"
        reason = stale(row["view"]) if stale is not None and isinstance(row.get("view"), str) else None
        if reason is not None and "view" in columns:
            i = columns.index("view")
            line[i] = f"{line[i]} {STALE_MARK}"
        cells.append(line)
        unreliable.append("; ".join(flagged.values()) or None)
        stale_rows.append(f"{STALE_WHAT} ({cause(reason)})" if reason is not None else None)
    notes = []
    distinct = sorted({why for why in unreliable if why})
    if distinct:
        notes.append(f"{MARK} unreliable: {'; '.join(distinct)} ({NOTE.removeprefix(MARK + ' unreliable: ')})")
    if any(stale_rows):
        notes.append(f"{STALE_MARK} stale: {STALE_WHAT} (see the note at the top).")
    return _Table(columns, cells, unreliable, stale_rows, notes)


def _html_table(
    rows: list[dict],
    columns: list[str] | None = None,
    flags: list[dict[str, str]] | None = None,
    stale: Callable[[str], Staleness | None] | None = None,
) -> str:
    """A table in a container that scrolls sideways when wider than the page; unreliable rows greyed,
    rows of stale views shaded."""
    if not rows:
        return "<p><em>no rows</em></p>"
    table = _prepare(rows, columns, flags, stale)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for line, why, old in zip(table.cells, table.unreliable, table.stale, strict=True):
        classes = [name for name, on in (("unreliable", why), ("stale", old)) if on]
        title = "; ".join([f"unreliable: {why}"] * bool(why) + [f"stale: {old}"] * bool(old))
        attrs = f' class="{" ".join(classes)}" title="{html.escape(title)}"' if classes else ""
        body.append(f"<tr{attrs}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in line) + "</tr>")
    out = f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    return out + "".join(f'<p class="note">{html.escape(note)}</p>' for note in table.notes)


def _md_table(
    rows: list[dict],
    columns: list[str] | None = None,
    flags: list[dict[str, str]] | None = None,
    stale: Callable[[str], Staleness | None] | None = None,
) -> str:
    if not rows:
        return "_no rows_\n"
    table = _prepare(rows, columns, flags, stale)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in table.cells]
    return "\n".join(lines) + "\n" + "".join(f"\n{note}\n" for note in table.notes)


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


def _probe_flags(reasons: list[str | None]) -> list[dict[str, str]]:
    """A probe row's reason marks its value (the mean of the relative drop)."""
    return [{"mean": why} if why else {} for why in reasons]


def _views_compared(data: ReportData, bold: Callable[[str], str]) -> str:
    if not data.pair:
        return ""
    a, b = (bold(v) + (f" {STALE_MARK}" if v in data.stale else "") for v in data.pair)
    return f"Views compared: {a} (A) and {b} (B)."


def _stale_html(data: ReportData) -> list[str]:
    note = top_note(data)
    if note is None:
        return []
    sentence, commands = note
    run = ", then ".join(f"<code>{html.escape(c)}</code>" for c in commands)
    return [f'<p class="stale">{html.escape(sentence)} Refresh with {run}.</p>']


def _stale_markdown(data: ReportData) -> list[str]:
    note = top_note(data)
    if note is None:
        return []
    sentence, commands = note
    return [f"> {sentence} Refresh with " + ", then ".join(f"`{c}`" for c in commands) + ".", ""]


def _about_html(about: str, command: str, note: str = "") -> str:
    return (
        f"<p>{html.escape(about)} <code>{html.escape(command)}</code>"
        + (f'<br><span class="stale">{html.escape(note)}</span>' if note else "")
        + "</p>"
    )


def to_html(data: ReportData) -> str:
    """The page. It carries no date, so the same workspace gives the same bytes."""
    title = f"complement report — {data.workspace.root.name}"
    stale = partial(stale_view, data)
    pair_mark, pair_note = section_mark(data), section_note(data)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Generated by complement {__version__}. "
        + (_views_compared(data, lambda v: f"<b>{html.escape(v)}</b>") if data.pair else html.escape(data.note))
        + "</p>",
        *_stale_html(data),
        "<h2>Dataset</h2>",
        _html_table([data.summary]),
        _html_table(data.splits),
        *_figure_html(data),
    ]
    for heading, name, about in TABLES:
        rows = data.results.get(name)
        if rows:
            pair = name in PAIR_DIAGNOSTICS
            parts += [
                f"<h2>{heading}{pair_mark if pair else ''}</h2>",
                _about_html(about, diagnose_command(data, name), pair_note if pair else ""),
                _html_table(rows, stale=stale),
            ]
    who = who_benefits_rows(data)
    if who:
        parts += [
            f"<h2>Who benefits{pair_mark}</h2>",
            _about_html(WHO_BENEFITS_ABOUT, diagnose_command(data, "who_benefits"), pair_note),
            _html_table(who),
        ]
    case = case_study_html(data)
    if case:
        parts += [
            f"<h2>Case study{pair_mark}</h2>",
            *([f'<p class="stale">{html.escape(pair_note)}</p>'] * bool(pair_note)),
            case,
        ]
    if data.probes:
        rows, reasons = _probe_rows(data)
        parts += [
            f"<h2>Alignment probes{section_mark(data, probes=True)}</h2>",
            _about_html(
                "Mean ± std over seeds.",
                diagnose_command(data, "probe_summary"),
                section_note(data, probes=True),
            ),
            _html_table(rows, flags=_probe_flags(reasons)),
        ]
    if data.runs:
        parts += ["<h2>Runs</h2>", _html_table(data.runs)]
    parts.append("</body></html>")
    return "\n".join(parts)


def to_markdown(data: ReportData) -> str:
    """The Markdown page: the HTML page's sections, commands and notes, without the figures."""
    out = [f"# complement report — {data.workspace.root.name}", ""]
    stale = partial(stale_view, data)
    pair_mark, pair_note = section_mark(data), section_note(data)
    if data.pair:
        out += [_views_compared(data, lambda v: f"**{v}**"), ""]
    elif data.note:
        out += [data.note, ""]
    out += _stale_markdown(data)
    out += ["## Dataset", "", _md_table([data.summary]), _md_table(data.splits)]
    for heading, name, about in TABLES:
        rows = data.results.get(name)
        if rows:
            pair = name in PAIR_DIAGNOSTICS
            command = md_code(diagnose_command(data, name))
            out += [f"## {heading}{pair_mark if pair else ''}", "", f"{about} {command}", ""]
            out += [pair_note, ""] if pair and pair_note else []
            out += [_md_table(rows, stale=stale)]
    who = who_benefits_rows(data)
    if who:
        command = md_code(diagnose_command(data, "who_benefits"))
        out += [f"## Who benefits{pair_mark}", "", f"{WHO_BENEFITS_ABOUT} {command}", ""]
        out += [pair_note, ""] if pair_note else []
        out += [_md_table(who)]
    case = case_study_markdown(data)
    if case:
        out += [f"## Case study{pair_mark}", ""]
        out += [pair_note, ""] if pair_note else []
        out += [case]
    if data.probes:
        rows, reasons = _probe_rows(data)
        out += [f"## Alignment probes{section_mark(data, probes=True)}", ""]
        out += [f"Mean ± std over seeds. {md_code(diagnose_command(data, 'probe_summary'))}", ""]
        probe_note = section_note(data, probes=True)
        out += [probe_note, ""] if probe_note else []
        out += [_md_table(rows, flags=_probe_flags(reasons))]
    if data.runs:
        out += ["## Runs", "", _md_table(data.runs)]
    return "\n".join(out)
