-- name: rank_correlation
-- description: Kendall tau between two views' rankings of the items both top-$k lists hold, per user.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions
-- returns: one row per statistic (kendall_tau, n_common) with n_users, mean, q25, median, q75
--
-- Over evaluated users with a list in both views. C(u) = L_A(u) ∩ L_B(u) at rank <= k; over the
-- pairs {i, j} ⊂ C(u): tau(u) = (concordant - discordant) / (|C|(|C|-1)/2), concordant when
-- (rank_A(i) - rank_A(j)) (rank_B(i) - rank_B(j)) > 0. Ranks are distinct within a list, so this
-- is tau-a = tau-b. tau is undefined (left out; n_users counts the rest) when |C(u)| < 2;
-- n_common summarises |C(u)| over every user with both lists.
WITH list_a AS (SELECT user_id, item_id, rank FROM topk WHERE view = $view_a AND rank <= $k),
list_b AS (SELECT user_id, item_id, rank FROM topk WHERE view = $view_b AND rank <= $k),
both_users AS (
    SELECT user_id FROM list_a INTERSECT SELECT user_id FROM list_b
    INTERSECT SELECT user_id FROM evaluated_users()
),
common AS MATERIALIZED (
    SELECT a.user_id, a.item_id, a.rank AS rank_a, b.rank AS rank_b
    FROM list_a a JOIN list_b b USING (user_id, item_id) SEMI JOIN both_users USING (user_id)
),
pairs AS (
    SELECT x.user_id, sum(sign((x.rank_a - y.rank_a) * (x.rank_b - y.rank_b))) AS net, count(*) AS n_pairs
    FROM common x JOIN common y ON x.user_id = y.user_id AND x.item_id < y.item_id
    GROUP BY x.user_id
),
per_user AS (
    SELECT u.user_id, coalesce(c.n_common, 0) AS n_common, p.net / p.n_pairs AS tau
    FROM both_users u
    LEFT JOIN (SELECT user_id, count(*) AS n_common FROM common GROUP BY user_id) c USING (user_id)
    LEFT JOIN pairs p USING (user_id)
)
SELECT 'kendall_tau' AS statistic, count(tau) AS n_users, avg(tau) AS mean,
       quantile_cont(tau, 0.25) AS q25, quantile_cont(tau, 0.5) AS median, quantile_cont(tau, 0.75) AS q75
FROM per_user
UNION ALL
SELECT 'n_common', count(n_common), avg(n_common),
       quantile_cont(n_common, 0.25), quantile_cont(n_common, 0.5), quantile_cont(n_common, 0.75)
FROM per_user
ORDER BY statistic;
