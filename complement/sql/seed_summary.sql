-- name: seed_summary
-- description: Mean ± std over seeds of each view's Recall, NDCG and HitRate at $k (views named NAME-sSEED by `complement run --seeds`).
-- param: k INTEGER = 20
-- requires: topk, interactions, items
-- returns: one row per base view name: n_seeds, then mean and sample std of recall, ndcg and hit_rate
--
-- A view named NAME-sSEED (e.g. lightgcn-s2) counts as seed SEED of NAME; a view without the suffix is
-- its own single seed. Per seed the metrics are those of `metrics` (averaged over evaluated users);
-- the std is the sample standard deviation over seeds (NULL with one seed).
WITH per_view AS (
    SELECT view,
           regexp_replace(view, '-s[0-9]+$', '') AS base_view,
           exact_avg(recall) AS recall,
           exact_avg(ndcg) AS ndcg,
           exact_avg(hit) AS hit_rate
    FROM user_metrics($k, [], false)
    GROUP BY view
)
SELECT base_view AS view,
       count(*) AS n_seeds,
       exact_avg(recall) AS recall_mean,
       std_sorted(recall) AS recall_std,
       exact_avg(ndcg) AS ndcg_mean,
       std_sorted(ndcg) AS ndcg_std,
       exact_avg(hit_rate) AS hit_rate_mean,
       std_sorted(hit_rate) AS hit_rate_std
FROM per_view
GROUP BY base_view
ORDER BY base_view;
