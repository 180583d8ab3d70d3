-- name: user_complementarity
-- description: Users by which views hit at $k (both, a_only, b_only, none): share and mean ln(1 + n_train).
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions, items, users
-- returns: four rows, user_group in both, a_only, b_only, none
--
-- An evaluated user hits with view v when |L_v(u) ∩ T(u)| > 0. share = users in the group /
-- evaluated users (the four shares sum to 1); mean_log_train = mean of ln(1 + users.n_train)
-- over the group's users (NULL for an empty group). A user with no list for a view does not hit.
WITH grouped AS (
    SELECT user_idx,
           CASE WHEN bool_or(in_a) AND bool_or(in_b) THEN 'both'
                WHEN bool_or(in_a) THEN 'a_only'
                WHEN bool_or(in_b) THEN 'b_only'
                ELSE 'none' END AS user_group
    FROM test_hits($k, $view_a, $view_b)
    GROUP BY user_idx
),
groups(user_group, position) AS (VALUES ('both', 1), ('a_only', 2), ('b_only', 3), ('none', 4))
SELECT g.user_group,
       count(x.user_idx) AS n_users,
       count(x.user_idx) / nullif((SELECT count(*) FROM grouped), 0) AS share,
       exact_avg(ln(1 + u.n_train)) AS mean_log_train
FROM groups g
LEFT JOIN grouped x ON x.user_group = g.user_group
LEFT JOIN users u ON u.user_idx = x.user_idx
GROUP BY g.user_group, g.position
ORDER BY g.position;
