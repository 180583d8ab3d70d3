-- name: fusion_gap
-- description: Recall@$k of each fused or aligned view next to its two source views, the oracle bounds (union_at_k, best_view) and the share of the oracle gain it captures, overall and per pop_group.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: views VARCHAR[] = []
-- requires: topk, interactions, items
-- returns: one row per (fused view, pop_group); pop_group 'all' first, then cold, mid, hot
--
-- The fused views are $views, or (when empty) every view in topk other than $view_a and $view_b.
-- best_single = max(R_A, R_B), the better single view's mean Recall@k in that scope.
-- union_at_k = mean over users of min(|(L_A ∪ L_B) ∩ T(u)|, k) / |T(u)|; best_view = mean over users of
-- max(R_A(u), R_B(u)) (docs/diagnostics.md, "oracle"). share_of_<bound>_gain = (recall - best_single) / (bound - best_single),
-- NULL when the bound equals best_single. Per pop_group the truth T(u) is restricted to the group's items and
-- only users with test items in the group are evaluated; a user without a list for a view has no hits.
WITH fused_views AS (
    SELECT DISTINCT view FROM topk
    WHERE view NOT IN ($view_a, $view_b) AND view_selected($views, view)
),
per_user AS (
    SELECT view, user_idx, pop_group, n_test, recall, ndcg
    FROM user_metrics($k, [], true)
),
sources AS (
    SELECT user_idx, pop_group,
           max(recall) FILTER (WHERE view = $view_a) AS recall_a,
           max(recall) FILTER (WHERE view = $view_b) AS recall_b
    FROM per_user
    WHERE view IN ($view_a, $view_b)
    GROUP BY user_idx, pop_group
),
union_hits AS (
    SELECT user_idx, pop_group, count(*) AS n_union
    FROM hit_pairs($k, $view_a, $view_b, true)
    GROUP BY user_idx, pop_group
),
bounds AS (
    SELECT s.pop_group,
           count(*) AS n_users,
           avg(s.recall_a) AS recall_a,
           avg(s.recall_b) AS recall_b,
           avg(least(coalesce(u.n_union, 0), $k) / n.n_test) AS union_at_k,
           avg(greatest(s.recall_a, s.recall_b)) AS best_view
    FROM sources s
    JOIN (SELECT DISTINCT user_idx, pop_group, n_test FROM per_user) n USING (user_idx, pop_group)
    LEFT JOIN union_hits u USING (user_idx, pop_group)
    GROUP BY s.pop_group
),
fused AS (
    SELECT view, pop_group, avg(recall) AS recall, avg(ndcg) AS ndcg
    FROM per_user
    WHERE view IN (SELECT view FROM fused_views)
    GROUP BY view, pop_group
)
SELECT f.view,
       $view_a AS view_a,
       $view_b AS view_b,
       f.pop_group,
       b.n_users,
       f.recall,
       f.ndcg,
       b.recall_a,
       b.recall_b,
       greatest(b.recall_a, b.recall_b) AS best_single,
       b.union_at_k,
       b.best_view,
       f.recall - greatest(b.recall_a, b.recall_b) AS gain,
       (f.recall - greatest(b.recall_a, b.recall_b)) / nullif(b.union_at_k - greatest(b.recall_a, b.recall_b), 0) AS share_of_union_at_k_gain,
       (f.recall - greatest(b.recall_a, b.recall_b)) / nullif(b.best_view - greatest(b.recall_a, b.recall_b), 0) AS share_of_best_view_gain
FROM fused f
JOIN bounds b USING (pop_group)
ORDER BY f.view, CASE f.pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END
