"""What a report shows, gathered from the workspace: the diagnostics results written by
``complement run`` (``results/*.parquet``), computed on the spot where they are missing.

A stored result is used only for what it holds: the pair of views it was computed for, the cut-offs
it was computed at and, for the per-view results, the views the workspace had then. Whatever the
report shows beyond that (another pair, another K, a view made since) is computed, never left out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ..errors import WorkspaceError, did_you_mean
from ..experiment.plan import FUSED_MODELS, seeded_name
from ..lineage import Staleness
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
#: a view named as `complement run --seeds` names one seed of it (lightgcn-s2)
SEEDED_VIEW = re.compile(r".-s[0-9]+$")

#: computes a diagnostic at the given cut-offs, for the given views (None: those it takes by default)
Compute = Callable[[list[int], list[str] | None], list[dict]]


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
    #: the views whose top-K (or neighbour) lists were made from older tables than the workspace holds now
    #: (reported with --allow-stale only), each with why
    stale: dict[str, Staleness] = field(default_factory=dict)
    stale_probes: dict[str, Staleness] = field(default_factory=dict)  # the probe runs made from older tables


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
    """The rows stored by `complement run` (of ``pair``, for a pair diagnostic), while the tables they came
    from are unchanged; None when there are none, so that the caller computes them: a file of other
    pairs holds nothing about this one, which is not the same as an empty result."""
    from ..experiment.execute import results_are_current

    path = ws.root / RESULTS_DIR / f"{name}.parquet"
    if not path.exists() or not results_are_current(ws):
        return None
    table = pq.read_table(path)
    if pair is not None:
        if not {"pair_a", "pair_b"} <= set(table.column_names):
            return None  # not stored per pair: whose rows they are is unknown
        rows = [r for r in table.to_pylist() if (r["pair_a"], r["pair_b"]) == pair]
    else:
        rows = table.to_pylist()
    return rows or None


def _like(rows: list[dict], stored: list[dict]) -> list[dict]:
    """Computed ``rows`` with the columns of the ``stored`` rows, in their order: a column that `complement
    run` added (pair_a, pair_b, seed) gets its value where the stored rows agree on one, else None."""
    if not rows or not stored:
        return rows
    constant = {c: stored[0][c] for c in stored[0] if all(r.get(c) == stored[0][c] for r in stored)}
    return [{c: r[c] if c in r else constant.get(c) for c in stored[0]} for r in rows]


def _result(
    ws: Workspace, name: str, ks: list[int], compute: Compute, pair: tuple[str, str] | None = None
) -> list[dict]:
    """A diagnostic's rows at the cut-offs ``ks``: the stored ones, and computed what is not stored (every
    K the stored rows lack and, for a per-view diagnostic, every view of the workspace they lack at a K)."""
    stored = _stored(ws, name, pair)
    if stored is None:
        return compute(ks, None)
    if "k" not in stored[0]:
        return stored
    rows = [r for r in stored if r["k"] in ks]
    have = {r["k"] for r in rows}
    missing: dict[tuple[str, ...] | None, list[int]] = {}  # the views to compute -> at which K
    for k in ks:
        if k not in have:
            missing.setdefault(None, []).append(k)
        elif name in VIEW_DIAGNOSTICS:
            shown = {r.get("view") for r in rows if r["k"] == k}
            lacking = tuple(v for v in ws.parts("topk") if v not in shown)
            if lacking:
                missing.setdefault(lacking, []).append(k)
    for views, at in missing.items():
        rows += _like(compute(at, list(views) if views is not None else None), stored)
    order = {k: i for i, k in enumerate(ks)}
    return sorted(
        rows, key=lambda r: (order[r["k"]], r.get("view") or "") if name in VIEW_DIAGNOSTICS else order[r["k"]]
    )


def fused_views(ws: Workspace, pair: tuple[str, str]) -> list[str]:
    """The fused and aligned views ``fusion_gap`` sets against ``pair``, as `complement run` chooses them: the
    experiment's [[fusion]]s and fused models (of the pair's seed); without an experiment that has any, the
    views made by ``complement fuse`` or by ``complement train`` with a fused model."""
    import shlex

    from ..viewkind import FUSED, TRAINED, view_kind

    def made_fused(view: str) -> bool:
        kind = view_kind(ws, view)
        if kind is None:
            return False
        words = shlex.split(kind[1])  # complement train MODEL ...
        return kind[0] == FUSED or (kind[0] == TRAINED and len(words) > 2 and words[2] in FUSED_MODELS)

    have = [v for v in ws.parts("topk") if v not in pair]
    config = ws.config
    names = [f["name"] for f in config.get("fusion", [])]
    names += [v["name"] for v in config.get("view", []) if v.get("model") in FUSED_MODELS]
    seeds = config.get("run", {}).get("seeds") or []
    seed = next((s for s in seeds if any(v.endswith(f"-s{s}") for v in pair)), seeds[0] if seeds else None)
    wanted = {seeded_name(n, seed) for n in names} | set(names)
    chosen = [v for v in have if v in wanted]
    if chosen or names:
        return chosen
    return [v for v in have if made_fused(v)]


def _neighbor_ks(ws: Workspace, pair: tuple[str, str], ks: list[int]) -> list[int]:
    """The cut-offs ``item_agreement`` can read for ``pair``: at most the shorter of their neighbour lists."""
    from ..diagnostics.runner import stored_length

    depth = min(stored_length(ws, "neighbors", v) for v in pair)
    return [k for k in ks if k <= depth]


def _staleness(ws: Workspace) -> dict[str, Staleness]:
    """Each view whose top-K lists (or else neighbour lists) are stale, with why."""
    out = {}
    for table in ("topk", "neighbors"):
        if ws.has_table(table):
            for view in ws.parts(table):
                if view not in out and (reason := ws.stale(table, view)) is not None:
                    out[view] = reason
    return out


def collect(
    ws: Workspace, pair: tuple[str, str] | None = None, ks: list[int] | None = None, allow_stale: bool = False
) -> ReportData:
    """Gather the numbers of a report. ``pair`` = the two views compared (default: the first pair of
    the experiment's [diagnostics]); ``ks`` = the cut-offs shown (default: the experiment's), read from the
    stored results where they hold them and computed otherwise. Views made from inputs that changed since
    are refused unless ``allow_stale``; then the report names them."""
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
    if allow_stale:
        data.stale = _staleness(ws)
        runs = ws.parts("probes") if ws.has_table("probes") else []
        data.stale_probes = {run: reason for run in runs if (reason := ws.stale("probes", run)) is not None}
    if data.note:
        from ..progress import message

        message(f"note: {data.note}")
    ks = list(ks or ws.config.get("diagnostics", {}).get("k") or [5, 10, 20])
    if ws.has_table("topk"):
        from ..diagnostics.runner import stored_length

        lengths = {v: stored_length(ws, "topk", v) for v in ws.parts("topk")}
        short = {v: n for v, n in lengths.items() if 0 < n < max(ks)}
        if short:
            from ..progress import message

            listed = ", ".join(f"'{v}' ({n})" for v, n in sorted(short.items()))
            message(
                f"note: views with lists shorter than K = {max(ks)} are shown at the K their lists hold only: {listed}"
            )

        def per_view(name: str) -> Compute:
            def compute(at: list[int], views: list[str] | None) -> list[dict]:
                named = views or list(lengths)
                if not any(0 < lengths.get(v, 0) < k for v in named for k in at):
                    params: dict[str, Any] = {"views": views} if views else {}
                    return diagnose(ws, name, k=at, **params).to_pylist()
                rows: list[dict] = []  # a view whose lists are shorter than k (an imported top-10) is left out at k
                for k in at:
                    long_enough = [v for v in named if not 0 < lengths.get(v, 0) < k]
                    if long_enough:
                        rows += diagnose(ws, name, k=[k], views=long_enough).to_pylist()
                return rows

            return compute

        for name in VIEW_DIAGNOSTICS:
            data.results[name] = _result(ws, name, ks, per_view(name))
        # written by `complement run --seeds`; computed only where the views are named as seeds of one
        if _stored(ws, "seed_summary", None) is not None or any(SEEDED_VIEW.search(v) for v in ws.parts("topk")):
            seeds = _result(ws, "seed_summary", ks, lambda at, _: diagnose(ws, "seed_summary", k=at).to_pylist())
            if any((r.get("n_seeds") or 0) > 1 for r in seeds):
                data.results["seed_summary"] = seeds
        if pair:
            for name in PAIR_DIAGNOSTICS:
                params: dict = {"view_a": pair[0], "view_b": pair[1]}
                name_ks = [20 if 20 in ks else max(ks)] if name in SINGLE_K_DIAGNOSTICS else ks
                if name == "item_agreement":
                    if not ws.has_table("neighbors") or not all(v in ws.parts("neighbors") for v in pair):
                        continue
                    name_ks = _neighbor_ks(ws, pair, name_ks)
                elif name == "fusion_gap":
                    params["views"] = fused_views(ws, pair)

                def compute(at: list[int], _: list[str] | None, name: str = name, params: dict = params) -> list[dict]:
                    if not at or (name == "fusion_gap" and not params["views"]):
                        return []  # nothing to read at these K, or nothing fused to set against the pair
                    return diagnose(ws, name, k=at, **params).to_pylist()

                data.results[name] = _result(ws, name, name_ks, compute, pair)
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
