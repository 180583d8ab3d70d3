-- name: who_benefits
-- description: Whom each view serves at $k: per user-activity decile and popularity taste, each view's recall, the union's, and the share of users only one view hits.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions, items, users
-- returns: one row per (grouping, bucket): grouping 'all' (bucket 'all'), 'activity' (deciles '1'..'10'), 'taste' ('niche', 'middle', 'mainstream', and 'unknown' for users without a train item)
--
-- Over the evaluated users u (non-empty test set T(u)); H_v(u) = L_v(u) ∩ T(u) with L_v(u) u's
-- top-k list in view v (no list: no hits).
-- activity: decile of users.n_train among the evaluated users, ntile(10) over (n_train, user_id)
--   ascending: decile 1 = the least active tenth; users with the same n_train may straddle two
--   deciles (the user_id breaks the tie); fewer than 10 users give fewer deciles.
-- taste: tau(u) = mean of ln(1 + items.n_train) over u's distinct train items (an item missing from
--   `items` counts as n_train = 0); terciles of tau by ntile(3) over (tau, user_id): 'niche' = the
--   lowest third, 'middle', 'mainstream' = the highest; users without a train item: 'unknown'.
-- Per group: n_users; stat_min / stat_max = the range of the grouping statistic (n_train for
-- activity, tau for taste, n_train for all); recall_a = mean |H_A(u)| / |T(u)|, recall_b likewise,
-- recall_union = mean |H_A(u) ∪ H_B(u)| / |T(u)| (the oracle of the two lists);
-- share_a_only = share of the group's users with |H_A(u)| > 0 and |H_B(u)| = 0, share_b_only the
-- converse, share_one_view = share_a_only + share_b_only (the users only one view serves).
WITH per_user AS (
    SELECT user_idx, any_value(user_id) AS user_id,
           count(*) AS n_test,
           count(*) FILTER (WHERE in_a) AS hits_a,
           count(*) FILTER (WHERE in_b) AS hits_b,
           count(*) FILTER (WHERE in_a OR in_b) AS hits_union
    FROM test_hits($k, $view_a, $view_b)
    GROUP BY user_idx
),
taste AS (
    SELECT t.user_idx, exact_avg(ln(1 + coalesce(i.n_train, 0))) AS tau
    FROM (SELECT DISTINCT user_idx, item_idx FROM interactions WHERE split = 'train') t
    LEFT JOIN items i ON i.item_idx = t.item_idx
    GROUP BY t.user_idx
),
described AS (
    SELECT p.*, coalesce(u.n_train, 0) AS n_train, t.tau
    FROM per_user p
    LEFT JOIN users u ON u.user_idx = p.user_idx
    LEFT JOIN taste t ON t.user_idx = p.user_idx
),
ranked AS (
    SELECT *,
           ntile(10) OVER (ORDER BY n_train, user_id) AS decile,
           CASE WHEN tau IS NULL THEN NULL
                ELSE ntile(3) OVER (PARTITION BY tau IS NULL ORDER BY tau, user_id) END AS tercile
    FROM described
),
grouped AS (
    SELECT 'all' AS grouping, 'all' AS grp, 0 AS position, n_train::DOUBLE AS stat, * FROM ranked
    UNION ALL
    SELECT 'activity', decile::VARCHAR, decile, n_train::DOUBLE, * FROM ranked
    UNION ALL
    SELECT 'taste', CASE tercile WHEN 1 THEN 'niche' WHEN 2 THEN 'middle' WHEN 3 THEN 'mainstream' ELSE 'unknown' END,
           coalesce(tercile, 4), tau, * FROM ranked
)
SELECT grouping, grp AS bucket,
       count(*) AS n_users,
       min(stat) AS stat_min,
       max(stat) AS stat_max,
       exact_avg(hits_a / n_test) AS recall_a,
       exact_avg(hits_b / n_test) AS recall_b,
       exact_avg(hits_union / n_test) AS recall_union,
       exact_avg((hits_a > 0 AND hits_b = 0)::DOUBLE) AS share_a_only,
       exact_avg((hits_b > 0 AND hits_a = 0)::DOUBLE) AS share_b_only,
       exact_avg(((hits_a > 0) <> (hits_b > 0))::DOUBLE) AS share_one_view
FROM grouped
GROUP BY grouping, grp, position
ORDER BY CASE grouping WHEN 'all' THEN 0 WHEN 'activity' THEN 1 ELSE 2 END, position;
