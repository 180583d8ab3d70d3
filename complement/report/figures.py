"""What the report plots: one :class:`Figure` per plot the gathered results support, as plain data
(drawn by :mod:`.plot`). A figure whose data is absent is not listed, so no empty axes are drawn."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .gather import ReportData, main_k, rows_at
from .reliability import MARK, probe_key, probe_reasons, row_reason

POP_GROUPS = ("all", "cold", "mid", "hot")

#: the figures of ``unique_hits``: name, section, caption, title, the column prefix of its
#: ``*_common``, ``*_a_only``, ``*_b_only`` values, y label, stacked
HIT_FIGURES = (
    (
        "unique_hits",
        "Unique hits",
        "Share of the hits found by both views, only by A, only by B, per K.",
        "Hit shares",
        "share",
        "share of hits",
        True,
    ),
    (
        "hit_popularity",
        "Popularity of hits",
        "Mean ln(1 + train interactions) of the hit items in each group: lower = longer tail.",
        "Mean ln-popularity of hit items",
        "log_pop",
        "mean ln(1 + n_train)",
        False,
    ),
)


@dataclass
class Figure:
    """A line chart (``kind='line'``, numeric ``categories``) or a grouped / stacked bar chart."""

    name: str  # file stem for ``--figures DIR``
    section: str
    caption: str
    title: str
    categories: list
    series: dict[str, list[float | None]]
    y_label: str = ""
    x_label: str = ""
    kind: str = "bar"
    stacked: bool = False
    error: dict[str, list[float | None]] = field(default_factory=dict)
    #: per category: why its values are unreliable (drawn faded, marked †), or None
    unreliable: list[str | None] = field(default_factory=list)

    def has_data(self) -> bool:
        return bool(self.categories) and any(
            v is not None and math.isfinite(v) for values in self.series.values() for v in values
        )

    def footnote(self) -> str:
        notes = sorted({f"{c}: {why}" for c, why in zip(self.categories, self.unreliable, strict=False) if why})
        return f"{MARK} unreliable — " + "; ".join(notes) + "." if notes else ""


def _reasons(rows: list[dict], key: str, categories: list) -> list[str | None]:
    by = {r.get(key): row_reason(r) for r in rows}
    return [by.get(c) for c in categories]


def _pair_figures(data: ReportData) -> list[Figure]:
    res, figures = data.results, []
    a, b = data.pair or ("A", "B")
    overlap = sorted((r for r in res.get("overlap", []) if r.get("statistic") == "jaccard" and "k" in r), key=_k)
    if overlap:
        figures.append(
            Figure(
                "overlap",
                "Overlap",
                f"Mean Jaccard overlap of the top-K lists of {a} and {b}, against K.",
                "Top-K Jaccard overlap",
                [r["k"] for r in overlap],
                {f"{a} vs {b}": [r["mean"] for r in overlap]},
                "mean Jaccard",
                "K",
                kind="line",
            )
        )
    hits = sorted(res.get("unique_hits", []), key=_k)
    if hits:
        cats = [f"K={r['k']}" if r.get("k") else "all" for r in hits]
        for name, section, caption, title, column, y_label, stacked in HIT_FIGURES:
            # each figure splits the hits three ways: found by both views, only by A, only by B
            series = {
                label: [r[f"{column}_{group}"] for r in hits]
                for label, group in (("both", "common"), (f"{a} only", "a_only"), (f"{b} only", "b_only"))
            }
            figures.append(Figure(name, section, caption, title, cats, series, y_label, stacked=stacked))
    oracle = res.get("oracle", [])
    k = main_k(oracle)
    oracle = rows_at(oracle, k)
    if oracle:
        groups = [g for g in POP_GROUPS if any(r["pop_group"] == g for r in oracle)]
        row = {r["pop_group"]: r for r in oracle}
        columns = ((a, "recall_a"), (b, "recall_b"), ("best_view", "best_view"), ("union_at_k", "union_at_k"))
        figures.append(
            Figure(
                "oracle",
                "Oracle fusion",
                f"Recall@{k} of each view and the oracle bounds, per popularity group (truth restricted to the group).",
                f"Oracle bounds at K={k}",
                groups,
                {name: [row[g].get(col) for g in groups] for name, col in (*columns, ("union", "union"))},
                f"Recall@{k}",
                unreliable=_reasons(oracle, "pop_group", groups),
            )
        )
    agreement = rows_at(res.get("item_agreement", []), main_k(res.get("item_agreement", [])))
    if agreement:
        groups = [r["pop_group"] for r in agreement]
        figures.append(
            Figure(
                "item_agreement",
                "Item agreement",
                "Jaccard of each item's nearest neighbours in the two views, against a permutation null "
                "(error bar: null std).",
                "Neighbour agreement vs null",
                groups,
                {"observed": [r["observed"] for r in agreement], "null": [r["null_mean"] for r in agreement]},
                "mean Jaccard",
                error={"null": [r["null_std"] for r in agreement]},
            )
        )
    gap = [r for r in rows_at(res.get("fusion_gap", []), main_k(res.get("fusion_gap", []))) if r["pop_group"] == "all"]
    if gap:
        first = gap[0]
        views = [r["view"] for r in gap]
        figures.append(
            Figure(
                "fusion_gap",
                "Fusion vs alignment",
                "Recall of each fused or aligned view against the better single view and the oracle.",
                "Fused and aligned views vs the oracle",
                views,
                {
                    "recall": [r["recall"] for r in gap],
                    "best single": [first["best_single"]] * len(gap),
                    "oracle union_at_k": [first["union_at_k"]] * len(gap),
                },
                "Recall",
                unreliable=_reasons(gap, "view", views),
            )
        )
    return figures


def _probe_figures(data: ReportData) -> list[Figure]:
    figures = []
    r2 = [p for p in data.probes if p["metric"] == "r2" and p["item_set"] in ("fit", "held_out")]
    labels = sorted({f"{p['mapper']}/{p['shift']}" for p in r2})
    value = {(f"{p['mapper']}/{p['shift']}", p["item_set"]): p for p in r2}
    if labels:
        sets = ("fit", "held_out")
        figures.append(
            Figure(
                "probe_r2",
                "Probes",
                "R² of each mapper on the items it was fitted on and on held-out items (mean ± std over seeds).",
                "Probe R²: fit vs held-out",
                labels,
                {s: [value.get((label, s), {}).get("mean") for label in labels] for s in sets},
                "R²",
                error={s: [value.get((label, s), {}).get("std") for label in labels] for s in sets},
            )
        )
    reasons = probe_reasons(data.probes)
    drops = {
        f"{p['mapper']}/{p['shift']}": p
        for p in data.probes
        if p["metric"] == "recall_drop" and p["item_set"] == "held_out"
    }
    if drops:
        labels = sorted(drops)
        figures.append(
            Figure(
                "probe_recall_drop",
                "Probes",
                "Relative drop of inductive Recall@20 when held-out items get mapped instead of true vectors.",
                "Inductive recall drop",
                labels,
                {"recall drop": [drops[label]["mean"] for label in labels]},
                "(true - mapped) / true",
                error={"recall drop": [drops[label]["std"] for label in labels]},
                unreliable=[reasons.get(probe_key(drops[label])) for label in labels],
            )
        )
    return figures


def _k(row: dict) -> int:
    return row.get("k") or 0


def figures(data: ReportData) -> list[Figure]:
    """Every figure the data supports, in report order; none without data to draw."""
    return [f for f in _pair_figures(data) + _probe_figures(data) if f.has_data()]
