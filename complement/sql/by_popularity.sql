-- name: by_popularity
-- description: The metrics at $k per view and item popularity group, truth restricted to the group.
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- requires: topk, interactions, items
-- returns: one row per (view, pop_group), pop_group in all, cold, mid, hot
--
-- For group g, T_g(u) = T(u) ∩ items of group g; users with empty T_g(u) are not evaluated for g.
-- The top-k list is not filtered: Recall_g = |L∩T_g|/|T_g|, Precision_g = |L∩T_g|/k,
-- NDCG_g uses IDCG over min(|T_g|, k) positions. Row 'all' equals `metrics`.
SELECT view,
       pop_group,
       count(*) AS n_users,
       avg(recall) AS recall,
       avg(precision) AS precision,
       avg(hit) AS hit_rate,
       avg(ndcg) AS ndcg,
       avg(rr) AS mrr
FROM user_metrics($k, $views, true)
GROUP BY view, pop_group
ORDER BY view, CASE pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END, pop_group;
