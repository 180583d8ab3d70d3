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
SELECT view, pop_group, n_users, recall, precision, hit_rate, ndcg, mrr
FROM view_metrics($k, $views, true)
ORDER BY view, CASE pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END, pop_group;
