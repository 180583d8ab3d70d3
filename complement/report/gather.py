"""What a report shows, gathered from the workspace: the diagnostics results written by
``complement run`` (``results/*.parquet``), computed on the spot where they are missing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow.parquet as pq

from ..errors import WorkspaceError, did_you_mean
from ..experiment.plan import seeded_name
from ..outputs import RESULTS_DIR
from ..workspace import Workspace

PAIR_DIAGNOSTICS = (
    "overlap",
    "unique_hits",
    "oracle",
    "user_complementarity",
    "item_agreement",
    "fusion_gap",
    "who_benefits",
    "case_study",
)
SINGLE_K_DIAGNOSTICS = ("case_study",)  # computed on the spot at the main K only: one sample of users is enough
VIEW_DIAGNOSTICS = ("metrics", "by_popularity", "coverage")


@dataclass
class ReportData:
    workspace: Workspace
    pair: tuple[str, str] | None
    summary: dict
    splits: list[dict]
    results: dict[str, list[dict]] = field(default_factory=dict)
    probes: list[dict] = field(default_factory=list)
    runs: list[dict] = field(default_factory=list)
    note: str = ""  # said in the report (and on stderr) when no pair of views is compared


def _pair(ws: Workspace, pair: tuple[str, str] | None) -> tuple[str, str] | None:
    if pair:
        return pair
    pairs = ws.config.get("diagnostics", {}).get("pairs") or []
    if pairs:
        a, b = pairs[0]
        seeds = ws.config.get("run", {}).get("seeds") or []
        views = set(ws.parts("topk"))
        if seeds:  # per-seed views are named as `complement run` names them: show the first seed's
            a = a if a in views else seeded_name(a, seeds[0])
            b = b if b in views else seeded_name(b, seeds[0])
        return a, b
    with_lists = ws.parts("topk")
    if len(with_lists) == 2:  # the only pair there is
        return with_lists[0], with_lists[1]
    return None


def no_pair_note(ws: Workspace) -> str:
    """Why the pair sections are missing, and what to pass."""
    with_lists = ws.parts("topk")
    return (
        "No pair of views compared, so overlap, unique hits, the oracle and fusion are left out: pass --views A,B "
        f"(views with top-K lists: {', '.join(with_lists) or 'none yet'})."
    )


def _stored(ws: Workspace, name: str, pair: tuple[str, str] | None) -> list[dict] | None:
    """Results stored by `complement run`, while the tables they came from are unchanged; else None."""
    from ..experiment.execute import results_are_current

    path = ws.root / RESULTS_DIR / f"{name}.parquet"
    if not path.exists() or not results_are_current(ws):
        return None
    rows = pq.read_table(path).to_pylist()
    if pair and rows and "pair_a" in rows[0]:
        rows = [r for r in rows if (r.get("pair_a"), r.get("pair_b")) == pair]
    return rows


def collect(
    ws: Workspace, pair: tuple[str, str] | None = None, ks: list[int] | None = None, allow_stale: bool = False
) -> ReportData:
    """Gather the numbers of a report. ``pair`` = the two views compared (default: the first pair of
    the experiment's [diagnostics]); ``ks`` = the cut-offs computed when results are missing. Views
    made from inputs that changed since are refused unless ``allow_stale``."""
    from functools import partial

    from ..diagnostics import diagnose as run_diagnostic

    diagnose = partial(run_diagnostic, allow_stale=allow_stale)
    if not allow_stale:
        for view in ws.parts("topk"):
            ws.check_fresh("topk", view)

    ws.require("items", "users", "interactions")
    summary = ws.query(
        """SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM items) AS items,
                  (SELECT count(*) FROM interactions) AS interactions,
                  (SELECT count(*) FILTER (WHERE text IS NULL OR text = '') FROM items) AS items_without_text"""
    ).to_pylist()[0]
    summary["density"] = summary["interactions"] / max(1, summary["users"] * summary["items"])
    splits = ws.query("SELECT split, count(*) AS interactions FROM interactions GROUP BY 1 ORDER BY 1").to_pylist()
    pair = _pair(ws, pair)
    if pair:
        have = ws.parts("topk")
        missing = [v for v in pair if v not in have]
        if missing:
            from ..diagnostics.runner import how_to_make

            raise WorkspaceError(
                f"view '{missing[0]}' has no topk table{did_you_mean(missing[0], have)} "
                f"(views with one: {', '.join(have) or 'none'}){how_to_make(ws, 'topk', missing[0])}"
            )
    data = ReportData(ws, pair, summary, splits, note="" if pair else no_pair_note(ws))
    if data.note:
        from ..progress import message

        message(f"note: {data.note}")
    ks = ks or ws.config.get("diagnostics", {}).get("k") or [5, 10, 20]
    if ws.has_table("topk"):
        for name in VIEW_DIAGNOSTICS:
            rows = _stored(ws, name, None)
            data.results[name] = rows if rows is not None else diagnose(ws, name, k=list(ks)).to_pylist()
        seeds = _stored(ws, "seed_summary", None)  # written by `complement run --seeds`
        if seeds and any((r.get("n_seeds") or 0) > 1 for r in seeds):
            data.results["seed_summary"] = seeds
        if pair:
            for name in PAIR_DIAGNOSTICS:
                rows = _stored(ws, name, pair)
                if rows is None:
                    if name == "item_agreement" and not all(v in ws.parts("neighbors") for v in pair):
                        continue
                    name_ks = [20 if 20 in ks else max(ks)] if name in SINGLE_K_DIAGNOSTICS else list(ks)
                    rows = diagnose(ws, name, k=name_ks, view_a=pair[0], view_b=pair[1]).to_pylist()
                data.results[name] = rows
    if ws.has_table("probes"):
        data.probes = diagnose(ws, "probe_summary").to_pylist()
    if ws.has_table("runs"):
        data.runs = ws.query(
            "SELECT step, view, seed, round(seconds, 2) AS seconds, rows, finished_at FROM runs ORDER BY finished_at"
        ).to_pylist()
    return data


def rows_at(rows: list[dict], k: int | None) -> list[dict]:
    """Rows at cut-off ``k`` (all rows when the result has no k column)."""
    if not rows or "k" not in rows[0] or k is None:
        return rows
    return [r for r in rows if r["k"] == k]


def main_k(rows: list[dict], preferred: int = 20) -> int | None:
    ks = sorted({r["k"] for r in rows if r.get("k") is not None}) if rows and "k" in rows[0] else []
    if not ks:
        return None
    return preferred if preferred in ks else ks[-1]
