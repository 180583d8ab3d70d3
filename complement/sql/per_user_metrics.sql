-- name: per_user_metrics
-- description: Recall, Precision, hit, NDCG and reciprocal rank at $k for every evaluated user and view.
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- requires: topk, interactions, items
-- returns: one row per (view, evaluated user)
--
-- Same definitions as `metrics`, before averaging. A user with no list for a view has 0 hits.
SELECT view, user_id, n_test, hits, recall, precision, hit, ndcg, rr
FROM user_metrics($k, $views, false)
ORDER BY view, user_id;
