-- name: case_study
-- description: Sampled users whom exactly one view hits at $k: their recent history titles, both top-$k lists with the hits marked, and their test items.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: n_users INTEGER = 3
-- param: n_history INTEGER = 10
-- param: seed INTEGER = 0
-- requires: topk, interactions, items
-- returns: one row per (direction, sampled user, section, position): direction 'a_only' then 'b_only'; section 'history', 'a', 'b', 'test'
--
-- A user is 'a_only' when |L_A(u) ∩ T(u)| > 0 and |L_B(u) ∩ T(u)| = 0, 'b_only' the converse
-- (T(u) = u's test items, L_v(u) = u's top-k list in view v; no list: no hits), as in
-- user_complementarity. Per direction, the n_users users first in the order of
-- hash60('case_study|seed|user_id') (`_macros.sql`; ties by user_id) are taken: deterministic for a seed and
-- the same on DuckDB and Spark; user_rank is that order (1 = first). Sections of a sampled user:
--   history: up to n_history distinct train items, the most recent first (ts descending, untimed
--            last, then item_id); position 1..;
--   a / b:   the view's list, rank <= k; position = rank (an item listed twice: its best rank);
--   test:    every test item, in item_id order; position 1...
-- Each row: item_id, title (items.title; NULL when the item is not in `items`), in_test (the item is
-- in T(u): a hit when in a list), in_a / in_b (the item is in L_A(u) / L_B(u)). Users and items are
-- matched on their integer keys; the ids order the sample, the history ties and the test items.
WITH checked AS (
    SELECT CASE
        WHEN $n_users < 1 THEN error('case_study: n_users must be at least 1, got ' || $n_users)
        WHEN $n_history < 0 THEN error('case_study: n_history must be at least 0, got ' || $n_history)
        ELSE $n_users END AS n_users
),
per_user AS (
    SELECT user_idx, any_value(user_id) AS user_id, bool_or(in_a) AS hit_a, bool_or(in_b) AS hit_b
    FROM test_hits($k, $view_a, $view_b)
    GROUP BY user_idx
),
directed AS (
    SELECT user_idx, user_id, CASE WHEN hit_a THEN 'a_only' ELSE 'b_only' END AS direction
    FROM per_user
    WHERE hit_a <> hit_b
),
sampled AS (
    SELECT direction, user_idx, user_id, user_rank
    FROM (
        SELECT direction, user_idx, user_id,
               row_number() OVER (PARTITION BY direction ORDER BY hash60(concat_ws('|', 'case_study', CAST($seed AS VARCHAR), user_id)), user_id) AS user_rank
        FROM directed
    )
    WHERE user_rank <= (SELECT n_users FROM checked)
),
lists AS (
    SELECT l.view, l.user_idx, l.item_idx, any_value(l.item_id) AS item_id, min(l.rank) AS rank
    FROM topk l SEMI JOIN sampled s ON s.user_idx = l.user_idx
    WHERE l.rank <= $k AND (l.view = $view_a OR l.view = $view_b)
    GROUP BY l.view, l.user_idx, l.item_idx
),
truth AS (
    SELECT t.user_idx, t.item_idx, t.item_id
    FROM test_items() t SEMI JOIN sampled s ON s.user_idx = t.user_idx
),
history AS (
    SELECT user_idx, item_idx, item_id,
           row_number() OVER (PARTITION BY user_idx ORDER BY ts DESC NULLS LAST, item_id) AS position
    FROM (
        SELECT i.user_idx, i.item_idx, any_value(i.item_id) AS item_id, max(i.ts) AS ts
        FROM interactions i SEMI JOIN sampled s ON s.user_idx = i.user_idx
        WHERE i.split = 'train'
        GROUP BY i.user_idx, i.item_idx
    )
),
sections AS (
    SELECT user_idx, 'history' AS section, 1 AS section_order, position, item_idx, item_id FROM history WHERE position <= $n_history
    UNION ALL
    SELECT user_idx, 'a', 2, rank, item_idx, item_id FROM lists WHERE view = $view_a
    UNION ALL
    SELECT user_idx, 'b', 3, rank, item_idx, item_id FROM lists WHERE view = $view_b
    UNION ALL
    SELECT user_idx, 'test', 4, row_number() OVER (PARTITION BY user_idx ORDER BY item_id), item_idx, item_id FROM truth
)
SELECT s.direction, s.user_rank, s.user_id, x.section, x.position::BIGINT AS position, x.item_id, it.title,
       t.item_idx IS NOT NULL AS in_test,
       la.item_idx IS NOT NULL AS in_a,
       lb.item_idx IS NOT NULL AS in_b
FROM sampled s
JOIN sections x ON x.user_idx = s.user_idx
LEFT JOIN items it ON it.item_idx = x.item_idx
LEFT JOIN truth t ON t.user_idx = s.user_idx AND t.item_idx = x.item_idx
LEFT JOIN lists la ON la.view = $view_a AND la.user_idx = s.user_idx AND la.item_idx = x.item_idx
LEFT JOIN lists lb ON lb.view = $view_b AND lb.user_idx = s.user_idx AND lb.item_idx = x.item_idx
ORDER BY s.direction, s.user_rank, x.section_order, x.position;
