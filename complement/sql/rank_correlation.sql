-- name: rank_correlation
-- description: Kendall tau between two views' rankings of the items both top-$k lists hold, per user.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions
-- returns: one row per statistic (kendall_tau, n_common) with n_users, mean, q25, median, q75
-- stage: per_user
--
-- Over evaluated users with a list in both views. C(u) = L_A(u) ∩ L_B(u) at rank <= k; over the
-- pairs {i, j} ⊂ C(u): tau(u) = (concordant - discordant) / (|C|(|C|-1)/2), concordant when
-- (rank_A(i) - rank_A(j)) (rank_B(i) - rank_B(j)) > 0. Ranks are distinct within a list, so this
-- is tau-a = tau-b. tau is undefined (left out; n_users counts the rest) when |C(u)| < 2;
-- n_common summarises |C(u)| over every user with both lists. Users and items are matched on
-- their integer keys (user_idx, item_idx).
WITH both_users AS (SELECT user_idx FROM paired_users($k, $view_a, $view_b)),
common AS MATERIALIZED (
    SELECT c.user_idx, c.item_idx, c.rank_a, c.rank_b
    FROM common_items($k, $view_a, $view_b) c SEMI JOIN both_users u ON u.user_idx = c.user_idx
),
pairs AS (
    SELECT x.user_idx, sum(sign((x.rank_a - y.rank_a) * (x.rank_b - y.rank_b))) AS net, count(*) AS n_pairs
    FROM common x JOIN common y ON x.user_idx = y.user_idx AND x.item_idx < y.item_idx
    GROUP BY x.user_idx
),
per_user AS (
    SELECT u.user_idx, coalesce(c.n_common, 0) AS n_common, p.net / p.n_pairs AS tau
    FROM both_users u
    LEFT JOIN (SELECT user_idx, count(*) AS n_common FROM common GROUP BY user_idx) c ON c.user_idx = u.user_idx
    LEFT JOIN pairs p ON p.user_idx = u.user_idx
),
scored AS (
    SELECT 'kendall_tau' AS statistic, tau AS value FROM per_user
    UNION ALL
    SELECT 'n_common', n_common FROM per_user
)
SELECT statistic, count(value) AS n_users, exact_avg(value) AS mean,
       quantile_cont(value, 0.25) AS q25, quantile_cont(value, 0.5) AS median, quantile_cont(value, 0.75) AS q75
FROM scored
GROUP BY statistic
ORDER BY statistic;
