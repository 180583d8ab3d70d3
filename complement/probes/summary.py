"""The probe summary: ``probe_summary.sql`` (mean ± std over seeds) and a wide table for people.

The numbers come from the SQL diagnostic (docs/design.md: a metric that can be SQL is SQL); this module
only runs it and, for the terminal, pivots the key metrics into one row per mapper × shift × item set."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa

from ..workspace import Workspace

SQL_PATH = Path(__file__).resolve().parent.parent / "sql" / "probe_summary.sql"
WIDE_METRICS = (
    "r2",
    "cosine",
    "knn_jaccard",
    "cka",
    "recall_true",
    "recall_mapped",
    "recall_drop",
    "recall_drop_normmatched",
    "recall_drop_cos",
    "rec_jaccard",
    "best_epoch",
)
SHARED_METRICS = (
    "n_shared_components",
    "canonical_dim",
    "canonical_corr_max",
    "canonical_corr_null_max",
    "linear_r2_all_items",
    "linear_r2_held_out",
)


def probe_summary(ws: Workspace, run_id: str = "", source: str = "", target: str = "") -> pa.Table:
    """Rows of ``probe_summary.sql``: ``run_id, source, target, mapper, shift, item_set, metric,
    n_seeds, mean, std``; an empty filter keeps every value."""
    ws.require("probes")
    from ..diagnostics.render import render

    sql = render(SQL_PATH.read_text(encoding="utf-8"))  # the shared macros (std_sorted, exact_avg) inlined
    return ws.query(sql, {"run_id": run_id, "source": source, "target": target})


COUNT_METRICS = ("best_epoch", "epochs_trained", "n_items", "n_eval_users", "n_shared_components", "canonical_dim")


def _mean_std(mean: float, std: float, n_seeds: int, metric: str = "") -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    digits = 1 if metric in COUNT_METRICS else 3
    return f"{mean:.{digits}f}" if n_seeds < 2 else f"{mean:.{digits}f} ± {std:.{digits}f}"


def wide_summary(summary: pa.Table) -> tuple[pa.Table, pa.Table]:
    """``(per_mapper, shared)``: one row per (mapper, shift, item_set) with ``mean ± std`` strings
    of :data:`WIDE_METRICS`, and the ``cca`` rows as ``metric, value``."""
    cells: dict[tuple[str, str, str], dict[str, str]] = {}
    shared = []
    for row in summary.to_pylist():
        if row["mapper"] == "cca":
            if row["metric"] in SHARED_METRICS:
                shared.append(
                    {
                        "metric": row["metric"],
                        "value": _mean_std(row["mean"], row["std"], row["n_seeds"], row["metric"]),
                    }
                )
            continue
        if row["metric"] not in WIDE_METRICS or (row["metric"] == "best_epoch" and row["item_set"] != "fit"):
            continue
        key = (row["mapper"], row["shift"], row["item_set"])
        cells.setdefault(key, {})[row["metric"]] = _mean_std(row["mean"], row["std"], row["n_seeds"], row["metric"])
    present = [m for m in WIDE_METRICS if any(m in c for c in cells.values())]
    per_mapper = [
        {"mapper": k[0], "shift": k[1], "item_set": k[2]} | {m: c.get(m, "") for m in present} for k, c in cells.items()
    ]
    names = ["mapper", "shift", "item_set", *present]
    per_mapper_table = pa.table({n: pa.array([r[n] for r in per_mapper], pa.string()) for n in names})
    shared_order = {m: i for i, m in enumerate(SHARED_METRICS)}
    shared.sort(key=lambda r: shared_order[r["metric"]])
    shared_table = pa.table(
        {
            "metric": pa.array([r["metric"] for r in shared], pa.string()),
            "value": pa.array([r["value"] for r in shared], pa.string()),
        }
    )
    return per_mapper_table, shared_table
