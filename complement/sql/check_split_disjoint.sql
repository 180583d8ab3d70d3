-- name: check_split_disjoint
-- description: Audit: no (user, item) pair sits in two splits, and every split is train, valid or test.
-- requires: interactions
-- returns: one row per offending (user, item) pair; no rows when the audit passes
--
-- A pair in both train and test (or valid) leaks the answer into training. Repeats of a pair
-- within one split are allowed.
SELECT user_id, item_id,
       string_agg(DISTINCT coalesce(split, 'NULL'), ',' ORDER BY coalesce(split, 'NULL')) AS splits,
       CASE WHEN bool_or(split IS NULL OR split NOT IN ('train', 'valid', 'test')) THEN 'unknown split'
            ELSE 'pair in several splits' END AS problem
FROM interactions
GROUP BY user_id, item_id
HAVING count(DISTINCT coalesce(split, 'NULL')) > 1
    OR bool_or(split IS NULL OR split NOT IN ('train', 'valid', 'test'))
ORDER BY user_id, item_id;
