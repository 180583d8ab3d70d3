"""Turn :class:`ReportData` into one self-contained HTML page (inline SVG plots, no network) or
Markdown (tables only, for a README or a paper draft)."""

from __future__ import annotations

import datetime as dt
import html
import math

from .. import __version__
from . import svg
from .explain import case_study_html, case_study_markdown, who_benefits_rows
from .gather import ReportData, main_k, rows_at

POP_GROUPS = ("all", "cold", "mid", "hot")


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _columns(rows: list[dict], drop: tuple[str, ...] = ("pair_a", "pair_b")) -> list[str]:
    return [c for c in (rows[0] if rows else {}) if c not in drop]


def _html_table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p><em>no rows</em></p>"
    columns = columns or _columns(rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "_no rows_\n"
    columns = columns or _columns(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(_fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _figures(data: ReportData) -> list[tuple[str, str, str]]:
    """(section title, caption, svg) for every plot the data supports."""
    res, figures = data.results, []
    a, b = data.pair or ("A", "B")
    overlap = [r for r in res.get("overlap", []) if r["statistic"] == "jaccard"]
    if overlap and "k" in overlap[0]:
        overlap.sort(key=lambda r: r["k"])
        figures.append(
            (
                "Overlap",
                f"Mean Jaccard overlap of the top-K lists of {a} and {b}, against K.",
                svg.line_chart(
                    "Top-K Jaccard overlap",
                    [r["k"] for r in overlap],
                    {f"{a} vs {b}": [r["mean"] for r in overlap]},
                    "mean Jaccard",
                    "K",
                ),
            )
        )
    hits = sorted(res.get("unique_hits", []), key=lambda r: r.get("k") or 0)
    if hits:
        cats = [f"K={r['k']}" if r.get("k") else "all" for r in hits]
        figures.append(
            (
                "Unique hits",
                "Share of the hits found by both views, only by A, only by B, per K.",
                svg.bar_chart(
                    "Hit shares",
                    cats,
                    {
                        "both": [r["share_common"] for r in hits],
                        f"{a} only": [r["share_a_only"] for r in hits],
                        f"{b} only": [r["share_b_only"] for r in hits],
                    },
                    "share of hits",
                    stacked=True,
                ),
            )
        )
        figures.append(
            (
                "Popularity of hits",
                "Mean ln(1 + train interactions) of the hit items in each group: lower = longer tail.",
                svg.bar_chart(
                    "Mean ln-popularity of hit items",
                    cats,
                    {
                        "both": [r["log_pop_common"] for r in hits],
                        f"{a} only": [r["log_pop_a_only"] for r in hits],
                        f"{b} only": [r["log_pop_b_only"] for r in hits],
                    },
                    "mean ln(1 + n_train)",
                ),
            )
        )
    oracle = res.get("oracle", [])
    k = main_k(oracle)
    oracle = rows_at(oracle, k)
    if oracle:
        groups = [g for g in POP_GROUPS if any(r["pop_group"] == g for r in oracle)]
        row = {r["pop_group"]: r for r in oracle}
        series = {
            name: [row[g][col] for g in groups]
            for name, col in (
                (a, "recall_a"),
                (b, "recall_b"),
                ("best_view", "best_view"),
                ("union_at_k", "union_at_k"),
                ("union", "union"),
            )
        }
        figures.append(
            (
                "Oracle fusion",
                f"Recall@{k} of each view and the oracle bounds, per popularity group (truth restricted to the group).",
                svg.bar_chart(f"Oracle bounds at K={k}", groups, series, f"Recall@{k}"),
            )
        )
    agreement = rows_at(res.get("item_agreement", []), main_k(res.get("item_agreement", [])))
    if agreement:
        groups = [r["pop_group"] for r in agreement]
        figures.append(
            (
                "Item agreement",
                "Jaccard of each item's nearest neighbours in the two views, against a permutation null "
                "(error bar: null std).",
                svg.bar_chart(
                    "Neighbour agreement vs null",
                    groups,
                    {"observed": [r["observed"] for r in agreement], "null": [r["null_mean"] for r in agreement]},
                    "mean Jaccard",
                    error={"null": [r["null_std"] for r in agreement]},
                ),
            )
        )
    gap = rows_at(res.get("fusion_gap", []), main_k(res.get("fusion_gap", [])))
    gap = [r for r in gap if r.get("pop_group") == "all"]
    if gap:
        first = gap[0]
        views = [r["view"] for r in gap]
        series = {
            "recall": [r["recall"] for r in gap],
            "best single": [first["best_single"]] * len(gap),
            "oracle union_at_k": [first["union_at_k"]] * len(gap),
        }
        figures.append(
            (
                "Fusion vs alignment",
                "Recall of each fused or aligned view against the better single view and the oracle.",
                svg.bar_chart("Fused and aligned views vs the oracle", views, series, "Recall"),
            )
        )
    if data.probes:
        r2 = [p for p in data.probes if p["metric"] == "r2" and p["item_set"] in ("fit", "held_out")]
        labels = sorted({f"{p['mapper']}/{p['shift']}" for p in r2})
        value = {(f"{p['mapper']}/{p['shift']}", p["item_set"]): p for p in r2}
        if labels:
            figures.append(
                (
                    "Probes",
                    "R² of each mapper on the items it was fitted on and on held-out items (mean ± std over seeds).",
                    svg.bar_chart(
                        "Probe R²: fit vs held-out",
                        labels,
                        {s: [value.get((label, s), {}).get("mean") for label in labels] for s in ("fit", "held_out")},
                        "R²",
                        error={
                            s: [value.get((label, s), {}).get("std") for label in labels] for s in ("fit", "held_out")
                        },
                    ),
                )
            )
        drops = {
            f"{p['mapper']}/{p['shift']}": p
            for p in data.probes
            if p["metric"] == "recall_drop" and p["item_set"] == "held_out"
        }
        if drops:
            labels = sorted(drops)
            figures.append(
                (
                    "Probes",
                    "Relative drop of inductive Recall@20 when held-out items get mapped instead of true vectors.",
                    svg.bar_chart(
                        "Inductive recall drop",
                        labels,
                        {"recall drop": [drops[label]["mean"] for label in labels]},
                        "(true − mapped) / true",
                        error={"recall drop": [drops[label]["std"] for label in labels]},
                    ),
                )
            )
    return figures


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


def _probe_rows(data: ReportData) -> list[dict]:
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
    return [
        {
            "mapper": p["mapper"],
            "shift": p["shift"],
            "item_set": p["item_set"],
            "metric": p["metric"],
            "mean": p["mean"],
            "std": p["std"],
            "seeds": p["n_seeds"],
        }
        for p in data.probes
        if p["metric"] in keep and p["item_set"] in ("fit", "held_out", "all")
    ]


def to_html(data: ReportData) -> str:
    title = f"complement report — {data.workspace.root.name}"
    figures = _figures(data)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "th{background:#f3f3f3}table.case td{text-align:left}figure{display:inline-block;margin:.5em}"
        "figcaption{font-size:12px;color:#555;max-width:560px}"
        "h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by complement {__version__}. "
        + (
            f"Views compared: <b>{html.escape(data.pair[0])}</b> (A) and <b>{html.escape(data.pair[1])}</b> (B)."
            if data.pair
            else ""
        )
        + "</p>",
        "<h2>Dataset</h2>",
        _html_table([data.summary]),
        _html_table(data.splits),
    ]
    if figures:
        parts.append("<h2>Plots</h2>")
        for section, caption, picture in figures:
            parts.append(
                f'<figure data-section="{html.escape(section)}">{picture}'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
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
        parts += [
            "<h2>Alignment probes</h2>",
            "<p>Mean ± std over seeds (<code>probe_summary</code>).</p>",
            _html_table(_probe_rows(data)),
        ]
    if data.runs:
        parts += ["<h2>Runs</h2>", _html_table(data.runs)]
    parts.append("</body></html>")
    return "\n".join(parts)


def to_markdown(data: ReportData) -> str:
    out = [f"# complement report — {data.workspace.root.name}", ""]
    if data.pair:
        out += [f"Views compared: **{data.pair[0]}** (A) and **{data.pair[1]}** (B).", ""]
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
        out += ["## Alignment probes", "", _md_table(_probe_rows(data))]
    return "\n".join(out)
