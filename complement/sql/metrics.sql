-- name: metrics
-- description: Recall, Precision, HitRate, NDCG and MRR at $k per view, averaged over evaluated users.
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- requires: topk, interactions, items
-- returns: one row per view (every view in topk when views is empty)
--
-- Evaluated users have a non-empty test set T(u); L(u) is the view's top-k list.
-- Recall = |L∩T|/|T|, Precision = |L∩T|/k, HitRate = [|L∩T| > 0],
-- NDCG = sum over hits of 1/log2(rank+1) divided by IDCG over min(|T|, k) positions,
-- MRR = 1/rank of the first hit (0 without one). A user with no list for a view counts as 0.
SELECT view, n_users, recall, precision, hit_rate, ndcg, mrr
FROM view_metrics($k, $views, false)
ORDER BY view;
