"""Fusing two views by their stored lists alone, for views without vectors (imported or fused).

``complement fuse`` ranks every item of full vector rankings; a list view has only its top-K, so
here the candidates of user u are the union of L_A(u) and L_B(u), as in ranx and trec_eval-style run fusion:

- ``rrf``: Σ_{v : i ∈ L_v(u)} 1 / (rrf_k + rank_v(u, i)) (an item missing from a list adds 0);
- ``score``: per user and view, the list's scores normalised (``zscore``: population std, 0 where
  it is 0; ``minmax``: to [0, 1]); an item missing from a list takes that list's lowest normalised
  score; fused = w · A + (1 - w) · B. Rank-only lists (no scores) cannot be score-fused.

Items of the ``exclude`` splits are dropped; ties go to the lower item index; the top ``k`` are kept."""

from __future__ import annotations

from ..choices import LIST_FUSION_METHODS
from ..errors import ConfigError, DataError, WorkspaceError, unknown_name
from ..runs import RunRecord, recorded
from ..scoring.steps import DEFAULT_EXCLUDE, exclude_splits
from ..tables import check_new_view_name
from ..workspace import Workspace

METHODS = LIST_FUSION_METHODS
NORMS = ("zscore", "minmax")

_SQL = """
WITH lists AS (
    SELECT view, user_id, item_id, rank, score FROM topk WHERE view = $view_a OR view = $view_b
),
-- the mean and std of a user's list over its scores in sorted order, so the same in any row order (a DOUBLE avg()
-- over a list that spans two row groups depended on the order DuckDB's threads added them)
sorted_scores AS (
    SELECT view, user_id, list_sort(list(score)) AS s, min(score) AS low, max(score) AS high
    FROM lists GROUP BY view, user_id
),
stats AS (
    SELECT view, user_id, list_avg(s) AS mean, list_stddev_pop(s) AS sd, low, high FROM sorted_scores
),
normalised AS (
    SELECT l.view, l.user_id, l.item_id, l.rank,
           CASE WHEN $norm = 'zscore' THEN (l.score - s.mean) / CASE WHEN s.sd > 0 THEN s.sd ELSE 1 END
                ELSE (l.score - s.low) / CASE WHEN s.high > s.low THEN s.high - s.low ELSE 1 END END AS z
    FROM lists l JOIN stats s USING (view, user_id)
),
floor AS (SELECT view, user_id, min(z) AS z_min FROM normalised GROUP BY view, user_id),
candidates AS (SELECT DISTINCT user_id, item_id FROM lists),
scored AS (
    SELECT c.user_id, c.item_id,
           CASE WHEN $method = 'rrf'
                THEN coalesce(1 / ($rrf_k + a.rank), 0) + coalesce(1 / ($rrf_k + b.rank), 0)
                ELSE $weight * coalesce(a.z, fa.z_min, 0) + (1 - $weight) * coalesce(b.z, fb.z_min, 0) END AS score
    FROM candidates c
    LEFT JOIN normalised a ON a.view = $view_a AND a.user_id = c.user_id AND a.item_id = c.item_id
    LEFT JOIN normalised b ON b.view = $view_b AND b.user_id = c.user_id AND b.item_id = c.item_id
    LEFT JOIN floor fa ON fa.view = $view_a AND fa.user_id = c.user_id
    LEFT JOIN floor fb ON fb.view = $view_b AND fb.user_id = c.user_id
    ANTI JOIN (SELECT user_id, item_id FROM interactions WHERE list_contains($masked, split)) m
        ON m.user_id = c.user_id AND m.item_id = c.item_id
),
ranked AS (
    SELECT s.user_id, s.item_id, s.score,
           row_number() OVER (PARTITION BY s.user_id ORDER BY s.score DESC, i.item_idx) AS rank
    FROM scored s JOIN items i USING (item_id)
)
SELECT $view AS view, user_id, rank::INTEGER AS rank, item_id, score FROM ranked WHERE rank <= $k ORDER BY user_id, rank
"""


def fuse_lists(
    ws: Workspace,
    view_a: str,
    view_b: str,
    method: str,
    view: str,
    *,
    weight: float = 0.5,
    norm: str = "zscore",
    rrf_k: float = 60.0,
    k: int = 100,
    exclude: str = DEFAULT_EXCLUDE,
) -> int:
    """Fuse the stored lists of ``view_a`` and ``view_b`` into ``view``'s ``topk``; returns its rows."""
    if method not in METHODS:
        raise ConfigError(unknown_name("list fusion method", method, METHODS) + " (concat needs vectors)")
    if norm not in NORMS:
        raise ConfigError(unknown_name("norm", norm, NORMS))
    check_new_view_name(view)
    if view in (view_a, view_b) or view_a == view_b:
        raise ConfigError("list fusion takes two different views and writes a third, new name")
    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"--weight must lie in [0, 1], got {weight}")
    if rrf_k < 0 or k < 1:
        raise ConfigError(f"--rrf-k must be >= 0 and --k >= 1 (got {rrf_k}, {k})")
    splits = exclude_splits(exclude)
    ws.require("items", "interactions", "topk")
    for name in (view_a, view_b):
        if name not in ws.parts("topk"):
            raise WorkspaceError(unknown_name("view", name, ws.parts("topk")) + " — list fusion needs views in topk")
    if method == "score":
        unscored = (
            ws.query(
                "SELECT DISTINCT view FROM topk WHERE (view = $a OR view = $b) AND score IS NULL ORDER BY view",
                {"a": view_a, "b": view_b},
            )
            .column(0)
            .to_pylist()
        )
        if unscored:
            raise DataError(f"view '{unscored[0]}' has lists without scores: fuse it with --method rrf")
    from ..fusion.run import fuse_command

    params = {"views": [view_a, view_b], "method": method, "k": k, "exclude": exclude, "inputs": "lists"}
    params.update({"norm": norm, "weight": weight} if method == "score" else {"rrf_k": rrf_k})
    table = ws.query(
        _SQL,
        {
            "view_a": view_a,
            "view_b": view_b,
            "method": method,
            "norm": norm,
            "weight": float(weight),
            "rrf_k": float(rrf_k),
            "masked": list(splits),
            "view": view,
            "k": k,
        },
    )
    record_in = RunRecord(
        step="fuse",
        view=view,
        params=params,
        inputs=[f"topk/{view_a}", f"topk/{view_b}", "interactions"],
        made_by=fuse_command(
            (view_a, view_b),
            method,
            view,
            {
                **({"norm": norm, "weight": weight} if method == "score" else {"rrf_k": rrf_k}),
                "k": k,
                "exclude": exclude,
            },
        ),
    )
    with recorded(ws, record_in) as record:
        if view in ws.parts("embeddings"):
            ws.delete_part("embeddings", view)  # stale vectors would disagree with these lists
        ws.write_table("topk", table, part=view)
        record.rows = table.num_rows
    return table.num_rows
