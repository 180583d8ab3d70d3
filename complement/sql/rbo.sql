-- name: rbo
-- description: Rank-biased overlap (Webber et al. 2010) of two views' top-$k lists per user: extrapolated RBO and its prefix sum.
-- param: k INTEGER = 20
-- param: p DOUBLE = 0.9
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions
-- returns: one row per statistic (rbo_ext, rbo_prefix) with n_users, mean, q25, median, q75
-- stage: per_user
--
-- Over evaluated users with a list in both views (n_users counts them). With A, B the lists cut at
-- rank k, s = min(|A|, |B|), l = max(|A|, |B|) and X_d = |A_{:d} ∩ B_{:d}| (a list shorter than d
-- counts whole), Webber et al.'s extrapolation for lists of uneven length:
--   rbo_ext    = (1-p)/p · ( Σ_{d=1..l} X_d/d · p^d + Σ_{d=s+1..l} X_s (d-s)/(s d) · p^d )
--                + ( (X_l - X_s)/l + X_s/s ) · p^l
--   rbo_prefix = (1-p)/p · Σ_{d=1..l} X_d/d · p^d   (the agreement seen, no extrapolation; a lower bound)
-- For lists of equal length k this is rbo_ext = (1-p)/p Σ X_d/d p^d + X_k/k p^k. Identical lists
-- give 1, disjoint ones 0. An item enters X_d at depth max(rank in A, rank in B).
-- Users and items are matched on their integer keys (user_idx, item_idx).
WITH settings AS (
    SELECT CASE WHEN $p > 0 AND $p < 1 THEN $p::DOUBLE ELSE error('p must lie strictly between 0 and 1') END AS p
),
sizes AS (
    SELECT user_idx, least(n_a, n_b) AS s, greatest(n_a, n_b) AS l FROM paired_users($k, $view_a, $view_b)
),
common AS (
    SELECT user_idx, greatest(rank_a, rank_b) AS depth FROM common_items($k, $view_a, $view_b)
),
depths AS (SELECT user_idx, s, l, unnest(range(1, l + 1)) AS d FROM sizes),
agreement AS (
    SELECT d.user_idx, d.s, d.l, d.d, count(c.depth) AS x
    FROM depths d LEFT JOIN common c ON c.user_idx = d.user_idx AND c.depth <= d.d
    GROUP BY d.user_idx, d.s, d.l, d.d
),
per_user AS MATERIALIZED (
    -- the sums as DECIMAL (terms rounded to 18 decimals): exact, so the same in any summation order
    SELECT a.user_idx, a.s, a.l,
           CAST(sum(CAST(a.x / a.d * st.p ** a.d AS DECIMAL(38, 18))) AS DOUBLE) AS prefix_sum,
           max(a.x) FILTER (WHERE a.d = a.s) AS x_s,
           max(a.x) FILTER (WHERE a.d = a.l) AS x_l,
           CAST(sum(CAST(CASE WHEN a.d > a.s THEN (a.d - a.s) / (a.s * a.d) * st.p ** a.d ELSE 0 END AS DECIMAL(38, 18))) AS DOUBLE) AS tail_weight,
           any_value(st.p) AS p
    FROM agreement a CROSS JOIN settings st
    GROUP BY a.user_idx, a.s, a.l
),
scored AS (
    SELECT 'rbo_prefix' AS statistic, (1 - p) / p * prefix_sum AS value FROM per_user
    UNION ALL
    SELECT 'rbo_ext', (1 - p) / p * (prefix_sum + x_s * tail_weight) + ((x_l - x_s) / l + x_s / s) * p ** l FROM per_user
)
SELECT statistic, count(value) AS n_users, exact_avg(value) AS mean,
       quantile_cont(value, 0.25) AS q25, quantile_cont(value, 0.5) AS median, quantile_cont(value, 0.75) AS q75
FROM scored
GROUP BY statistic
ORDER BY statistic;
