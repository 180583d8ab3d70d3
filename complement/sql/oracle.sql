-- name: oracle
-- description: Oracle fusion upper bounds at $k (union, union_at_k, best_view) and their gains, overall and per popularity group.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions, items
-- returns: one row per pop_group (all, cold, mid, hot)
-- stage: scored
--
-- Per evaluated user, with T = T(u) (for group g: T ∩ items of g; users with no test item in g
-- are not evaluated for g) and hits counted against that T:
--   recall_a, recall_b = |L_A ∩ T| / |T|, |L_B ∩ T| / |T|
--   union       = |(L_A ∪ L_B) ∩ T| / |T|            (up to 2k items: the paper's bound)
--   union_at_k  = min(|(L_A ∪ L_B) ∩ T|, k) / |T|    (best re-ranking of the union into k slots)
--   best_view   = max(recall_a(u), recall_b(u))       (a per-user choice of view)
-- Each is averaged over the group's users; best_single = max(mean recall_a, mean recall_b) and
-- x_gain = x - best_single. Always union >= union_at_k >= best_view >= best_single.
WITH per_user AS (
    -- one row per (user, scope): scope 'all' and each known pop_group of the user's test items
    SELECT CASE WHEN grouping(pop_group) = 1 THEN 'all' ELSE pop_group END AS pop_group,
           grouping(pop_group) = 1 AS is_all, unknown_group,
           count(*) AS n_test,
           count(*) FILTER (WHERE in_a) AS hits_a,
           count(*) FILTER (WHERE in_b) AS hits_b,
           count(*) FILTER (WHERE in_a OR in_b) AS hits_union
    FROM (SELECT user_idx, pop_group, in_a, in_b, pop_group IS NULL AS unknown_group FROM test_hits($k, $view_a, $view_b))
    GROUP BY GROUPING SETS ((user_idx), (user_idx, pop_group, unknown_group))
),
scored AS (
    SELECT pop_group,
           hits_a / n_test AS recall_a,
           hits_b / n_test AS recall_b,
           hits_union / n_test AS recall_union,
           least(hits_union, $k) / n_test AS recall_union_at_k,
           greatest(hits_a, hits_b) / n_test AS recall_best_view
    FROM per_user
    -- a filter here, not a HAVING on unknown_group: Spark resolves HAVING only over selected columns
    WHERE is_all OR NOT unknown_group
),
averaged AS (
    SELECT pop_group, count(*) AS n_users,
           exact_avg(recall_a) AS recall_a, exact_avg(recall_b) AS recall_b,
           exact_avg(recall_union) AS "union", exact_avg(recall_union_at_k) AS union_at_k,
           exact_avg(recall_best_view) AS best_view
    FROM scored GROUP BY pop_group
)
SELECT pop_group, n_users, recall_a, recall_b,
       greatest(recall_a, recall_b) AS best_single,
       "union", union_at_k, best_view,
       "union" - greatest(recall_a, recall_b) AS union_gain,
       union_at_k - greatest(recall_a, recall_b) AS union_at_k_gain,
       best_view - greatest(recall_a, recall_b) AS best_view_gain
FROM averaged
ORDER BY CASE pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END, pop_group;
