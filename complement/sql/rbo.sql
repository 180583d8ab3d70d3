-- name: rbo
-- description: Rank-biased overlap (Webber et al. 2010) of two views' top-$k lists per user: extrapolated RBO and its prefix sum.
-- param: k INTEGER = 20
-- param: p DOUBLE = 0.9
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions
-- returns: one row per statistic (rbo_ext, rbo_prefix) with n_users, mean, q25, median, q75
--
-- Over evaluated users with a list in both views (n_users counts them). With A, B the lists cut at
-- rank k, s = min(|A|, |B|), l = max(|A|, |B|) and X_d = |A_{:d} ∩ B_{:d}| (a list shorter than d
-- counts whole), Webber et al.'s extrapolation for lists of uneven length:
--   rbo_ext    = (1-p)/p · ( Σ_{d=1..l} X_d/d · p^d + Σ_{d=s+1..l} X_s (d-s)/(s d) · p^d )
--                + ( (X_l - X_s)/l + X_s/s ) · p^l
--   rbo_prefix = (1-p)/p · Σ_{d=1..l} X_d/d · p^d   (the agreement seen, no extrapolation; a lower bound)
-- For lists of equal length k this is rbo_ext = (1-p)/p Σ X_d/d p^d + X_k/k p^k. Identical lists
-- give 1, disjoint ones 0. An item enters X_d at depth max(rank in A, rank in B).
WITH settings AS (
    SELECT CASE WHEN $p > 0 AND $p < 1 THEN $p::DOUBLE ELSE error('p must lie strictly between 0 and 1') END AS p
),
list_a AS (SELECT user_id, item_id, rank FROM topk WHERE view = $view_a AND rank <= $k),
list_b AS (SELECT user_id, item_id, rank FROM topk WHERE view = $view_b AND rank <= $k),
sizes AS (
    SELECT user_id, least(n_a, n_b) AS s, greatest(n_a, n_b) AS l
    FROM (
        SELECT user_id, count(*) FILTER (WHERE view = $view_a) AS n_a, count(*) FILTER (WHERE view = $view_b) AS n_b
        FROM topk WHERE rank <= $k AND (view = $view_a OR view = $view_b)
        GROUP BY user_id
    )
    SEMI JOIN evaluated_users() USING (user_id)
    WHERE n_a > 0 AND n_b > 0
),
common AS (
    SELECT a.user_id, greatest(a.rank, b.rank) AS depth FROM list_a a JOIN list_b b USING (user_id, item_id)
),
depths AS (SELECT user_id, s, l, unnest(range(1, l + 1)) AS d FROM sizes),
agreement AS (
    SELECT d.user_id, d.s, d.l, d.d, count(c.depth) AS x
    FROM depths d LEFT JOIN common c ON c.user_id = d.user_id AND c.depth <= d.d
    GROUP BY d.user_id, d.s, d.l, d.d
),
per_user AS MATERIALIZED (
    SELECT a.user_id, a.s, a.l,
           sum(a.x / a.d * st.p ** a.d) AS prefix_sum,
           max(a.x) FILTER (WHERE a.d = a.s) AS x_s,
           max(a.x) FILTER (WHERE a.d = a.l) AS x_l,
           sum(CASE WHEN a.d > a.s THEN (a.d - a.s) / (a.s * a.d) * st.p ** a.d ELSE 0 END) AS tail_weight,
           any_value(st.p) AS p
    FROM agreement a CROSS JOIN settings st
    GROUP BY a.user_id, a.s, a.l
),
scored AS (
    SELECT (1 - p) / p * prefix_sum AS rbo_prefix,
           (1 - p) / p * (prefix_sum + x_s * tail_weight) + ((x_l - x_s) / l + x_s / s) * p ** l AS rbo_ext
    FROM per_user
)
SELECT 'rbo_ext' AS statistic, count(rbo_ext) AS n_users, avg(rbo_ext) AS mean,
       quantile_cont(rbo_ext, 0.25) AS q25, quantile_cont(rbo_ext, 0.5) AS median, quantile_cont(rbo_ext, 0.75) AS q75
FROM scored
UNION ALL
SELECT 'rbo_prefix', count(rbo_prefix), avg(rbo_prefix),
       quantile_cont(rbo_prefix, 0.25), quantile_cont(rbo_prefix, 0.5), quantile_cont(rbo_prefix, 0.75)
FROM scored
ORDER BY statistic;
