-- name: overlap
-- description: How different two views' top-$k lists are: per-user Jaccard and overlap@k, mean and quartiles.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions
-- returns: one row per statistic (jaccard, overlap_at_k) with n_users, mean, q25, median, q75
-- stage: scored
--
-- Over evaluated users u (non-empty test set), with L_v(u) the items at rank <= k (a list is
-- assumed to hold distinct items, as `check_topk_ranks` verifies; the sizes come from row counts):
-- jaccard(u) = |L_A ∩ L_B| / |L_A ∪ L_B|, overlap_at_k(u) = |L_A ∩ L_B| / k.
-- A user with no list in either view has jaccard NULL (left out of its statistics; n_users counts
-- the users it is defined for) and overlap_at_k 0. Quartiles interpolate linearly (quantile_cont).
-- Users and items are matched on their integer keys (user_idx, item_idx).
WITH evaluated AS (SELECT user_idx FROM evaluated_users()),
list_a AS (SELECT user_idx, item_idx FROM topk WHERE view = $view_a AND rank <= $k),
list_b AS (SELECT user_idx, item_idx FROM topk WHERE view = $view_b AND rank <= $k),
common AS (
    SELECT user_idx, count(*) AS n_common FROM list_a JOIN list_b USING (user_idx, item_idx) GROUP BY user_idx
),
sizes AS (
    SELECT user_idx, count(*) FILTER (WHERE view = $view_a) AS n_a, count(*) FILTER (WHERE view = $view_b) AS n_b
    FROM topk WHERE rank <= $k AND (view = $view_a OR view = $view_b)
    GROUP BY user_idx
),
per_user AS (
    SELECT s.user_idx, coalesce(c.n_common, 0) AS n_common, s.n_a + s.n_b - coalesce(c.n_common, 0) AS n_union
    FROM sizes s LEFT JOIN common c USING (user_idx)
),
scored AS MATERIALIZED (
    SELECT coalesce(p.n_common, 0) / nullif(p.n_union, 0) AS jaccard,
           coalesce(p.n_common, 0) / $k AS overlap_at_k
    FROM evaluated e LEFT JOIN per_user p USING (user_idx)
)
SELECT 'jaccard' AS statistic, count(jaccard) AS n_users, exact_avg(jaccard) AS mean,
       quantile_cont(jaccard, 0.25) AS q25, quantile_cont(jaccard, 0.5) AS median,
       quantile_cont(jaccard, 0.75) AS q75
FROM scored
UNION ALL
SELECT 'overlap_at_k', count(overlap_at_k), exact_avg(overlap_at_k),
       quantile_cont(overlap_at_k, 0.25), quantile_cont(overlap_at_k, 0.5),
       quantile_cont(overlap_at_k, 0.75)
FROM scored
ORDER BY statistic;
