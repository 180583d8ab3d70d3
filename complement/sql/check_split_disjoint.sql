-- name: check_split_disjoint
-- description: Audit: no (user, item) pair sits in two splits, and every split is train, valid or test.
-- requires: interactions
-- returns: one row per offending (user, item) pair; no rows when the audit passes
--
-- A pair in both train and test (or valid) leaks the answer into training. Repeats of a pair
-- within one split are allowed. A NULL split is shown as 'NULL'. (The distinct splits are taken
-- in a subquery: Spark 4 fails on string_agg(DISTINCT ...) ordered by an expression.) Pairs are
-- matched on the integer keys (user_idx, item_idx).
SELECT any_value(user_id) AS user_id, any_value(item_id) AS item_id,
       string_agg(split, ',' ORDER BY split) AS splits,
       CASE WHEN bool_or(split NOT IN ('train', 'valid', 'test')) THEN 'unknown split'
            ELSE 'pair in several splits' END AS problem
FROM (
    SELECT user_idx, item_idx, any_value(user_id) AS user_id, any_value(item_id) AS item_id, coalesce(split, 'NULL') AS split
    FROM interactions GROUP BY user_idx, item_idx, coalesce(split, 'NULL')
) AS pairs
GROUP BY user_idx, item_idx
HAVING count(*) > 1 OR bool_or(split NOT IN ('train', 'valid', 'test'))
ORDER BY user_id, item_id;
