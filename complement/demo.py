"""The main job: a full experiment on the built-in synthetic data, with its headline results.

``complement demo`` runs the packaged experiment (``examples/synthetic.toml``) into a workspace,
prints the headline numbers of every stage, and writes the HTML report."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pyarrow as pa

from .errors import ConfigError
from .experiment import load, run_experiment
from .workspace import Workspace


def experiment_path() -> Path:
    return Path(str(resources.files("complement.experiment").joinpath("synthetic.toml")))


def run_demo(
    directory: str | Path = "complement-demo", overrides: list[str] | None = None
) -> tuple[Workspace, dict[str, pa.Table]]:
    """Run the built-in experiment into ``directory`` (incremental: a second call redoes nothing)
    and return the workspace and its headline tables."""
    from .report import write_report

    path = experiment_path()
    try:
        config = load(path, overrides)  # a bad override is refused before the folder is made
    except ConfigError as error:  # the file is the package's, not the user's: name what they typed
        raise ConfigError(str(error).replace(f"{path.name}:", "--set on the demo's built-in experiment:", 1)) from None
    ws = Workspace(directory)
    ws.root.mkdir(parents=True, exist_ok=True)
    run_experiment(ws, config)
    write_report(ws)
    return ws, headline(ws, config)


def headline(ws: Workspace, config: dict) -> dict[str, pa.Table]:
    """The numbers a reader looks at first, from the stored diagnostics results at K=20."""
    import pyarrow.parquet as pq

    results = ws.root / "results"
    k = 20 if 20 in config["diagnostics"]["k"] else config["diagnostics"]["k"][-1]

    def at_k(name: str, columns: list[str], where=None) -> pa.Table | None:
        path = results / f"{name}.parquet"
        if not path.exists():
            return None
        rows = [r for r in pq.read_table(path).to_pylist() if r.get("k", k) == k and (where is None or where(r))]
        return pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]) if rows else None

    out = {
        "metrics": at_k("metrics", ["view", "recall", "ndcg", "hit_rate"]),
        "overlap": at_k("overlap", ["pair_a", "pair_b", "statistic", "mean", "median"]),
        "unique_hits": at_k(
            "unique_hits",
            [
                "pair_a",
                "pair_b",
                "share_common",
                "share_a_only",
                "share_b_only",
                "complementary_hit_ratio",
                "log_pop_a_only",
                "log_pop_b_only",
            ],
        ),
        "oracle": at_k("oracle", ["pop_group", "recall_a", "recall_b", "best_view", "union_at_k", "union"]),
        "fusion_gap": at_k(
            "fusion_gap",
            ["view", "recall", "best_single", "union_at_k", "share_of_union_at_k_gain"],
            where=lambda r: r.get("pop_group") == "all",
        ),
    }
    if out["fusion_gap"] is not None:
        out["fusion_gap"] = _with_fusion_settings(ws, out["fusion_gap"])
    if ws.has_table("probes"):
        from .diagnostics import diagnose

        rows = [
            r
            for r in diagnose(ws, "probe_summary").to_pylist()
            if r["metric"] in ("r2", "recall_drop") and r["item_set"] in ("fit", "held_out")
        ]
        out["probes"] = (
            pa.Table.from_pylist(
                [
                    {
                        "source": r["source"],
                        "target": r["target"],
                        "mapper": r["mapper"],
                        "shift": r["shift"],
                        "item_set": r["item_set"],
                        "metric": r["metric"],
                        "mean": r["mean"],
                        "std": r["std"],
                    }
                    for r in rows
                ]
            )
            if rows
            else None
        )
    return {name: table for name, table in out.items() if table is not None}


def fusion_setting(params: dict, metrics: dict) -> str:
    """How a fused view was made, in a few words: its method and the weight or constant it used (score
    fusion's tuned weight of the first view can be 0 or 1, which is then that view's ranking alone)."""
    method = params.get("method", "")
    views = params.get("views") or []
    if method == "score" and metrics.get("weight") is not None:
        weight = float(metrics["weight"])
        how = "tuned on validation" if metrics.get("tuned") else "given"
        alone = {1.0: views[0] if views else "", 0.0: views[1] if len(views) > 1 else ""}.get(weight)
        return f"score, w = {weight:g} {how}" + (f" (= {alone} alone)" if alone else "")
    if method == "rrf" and params.get("rrf_k") is not None:
        return f"rrf, k = {params['rrf_k']:g}"
    return method


def _with_fusion_settings(ws: Workspace, table: pa.Table) -> pa.Table:
    """``table`` (fusion_gap rows) with a ``setting`` column from each fused view's latest ``fuse`` run."""
    import json

    if not ws.has_table("runs"):
        return table
    rows = ws.query("SELECT view, params, metrics FROM runs WHERE step = 'fuse' ORDER BY finished_at").to_pylist()
    settings = {
        r["view"]: fusion_setting(json.loads(r["params"] or "{}"), json.loads(r["metrics"] or "{}")) for r in rows
    }
    column = [settings.get(view, "") for view in table.column("view").to_pylist()]
    return table.add_column(1, "setting", pa.array(column, pa.string()))
