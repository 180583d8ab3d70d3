-- name: multi_view
-- description: Three or more views at $k: pairwise Jaccard of their lists, and each view's marginal gain in union recall in greedy order.
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- requires: topk, interactions
-- returns: rows (statistic, step, view_a, view_b, value): jaccard per ordered pair; recall per view; union_recall and marginal_gain per greedy step
--
-- views = [] means every view in topk. Over evaluated users u, L_v(u) = view v's items at rank <= k, T(u) the test items.
-- jaccard(a, b) = mean_u |L_a ∩ L_b| / |L_a ∪ L_b| (users with neither list left out), as in `overlap`.
-- union recall of a set S of views: R(S) = mean_u |T(u) ∩ ∪_{v∈S} L_v(u)| / |T(u)|; recall = R({v}).
-- Greedy order: step 1 takes the view with the highest recall; each next step adds the view that
-- raises R the most (ties by view name). marginal_gain at step j = R(S_j) - R(S_{j-1}), with R(∅) = 0,
-- so the gains of a run sum to the union recall of all the views.
WITH named AS (
    -- the views given, or every view in topk when none are
    SELECT coalesce(nullif($views, []), (SELECT list(DISTINCT view ORDER BY view) FROM topk)) AS views
),
named_views AS (SELECT unnest(views) AS view FROM named),
chosen AS (
    -- each view's bit position by name (plain SQL that Spark runs too: no list indexing)
    SELECT view, row_number() OVER (ORDER BY view) AS position,
           (SELECT count(*) FROM named_views) AS n,
           (SELECT count(DISTINCT view) FROM named_views) AS n_distinct
    FROM named_views
),
checked AS (
    SELECT view, (1::BIGINT << (position - 1)) AS bit,
           CASE WHEN n < 3 THEN error('multi_view needs at least 3 views (pass --views a,b,c)')
                WHEN n > 62 THEN error('multi_view takes at most 62 views')
                WHEN n_distinct < n THEN error('multi_view: a view is named twice')
                ELSE true END AS ok
    FROM chosen
),
bits AS (SELECT view, bit FROM checked WHERE ok),
lists AS MATERIALIZED (
    SELECT t.view, t.user_idx, t.item_idx, b.bit FROM topk t JOIN bits b USING (view) WHERE t.rank <= $k
),
n_test AS (SELECT user_idx, count(*) AS n_test FROM test_items() GROUP BY user_idx),
n_eval AS (SELECT count(*)::DOUBLE AS n FROM n_test),
hits AS MATERIALIZED (
    -- one row per test pair some chosen view lists: which views (bit mask) and its weight 1/|T(u)|
    SELECT l.user_idx, bit_or(l.bit) AS mask, any_value(1 / n.n_test) AS w
    FROM lists l JOIN test_items() t USING (user_idx, item_idx) JOIN n_test n USING (user_idx)
    GROUP BY l.user_idx, l.item_idx
),
greedy AS (
    WITH RECURSIVE steps(step, taken, view, union_recall) AS (
        SELECT 0, 0::BIGINT, NULL::VARCHAR, 0::DOUBLE
        UNION ALL
        SELECT s.step + 1, s.taken | best.bit, best.view, best.recall
        FROM steps s, LATERAL (
            SELECT c.view, c.bit, c.recall
            FROM (
                SELECT b.view, b.bit,
                       coalesce((SELECT sum(h.w) FROM hits h WHERE h.mask & (s.taken | b.bit) <> 0), 0) / (SELECT n FROM n_eval) AS recall
                FROM bits b
                WHERE s.taken & b.bit = 0
            ) c
            ORDER BY round(c.recall, 12) DESC, c.view  -- rounded: sums in another order must not break a tie
            LIMIT 1
        ) best
    )
    SELECT step, view, union_recall, union_recall - lag(union_recall, 1, 0) OVER (ORDER BY step) AS gain
    FROM steps WHERE step > 0
),
sizes AS (SELECT view, user_idx, count(*) AS n FROM lists GROUP BY view, user_idx),
common AS (
    SELECT x.view AS view_a, y.view AS view_b, x.user_idx, count(*) AS n_common
    FROM lists x JOIN lists y ON x.user_idx = y.user_idx AND x.item_idx = y.item_idx AND x.view <> y.view
    GROUP BY x.view, y.view, x.user_idx
),
pair_users AS (
    SELECT a.view AS view_a, b.view AS view_b, n.user_idx,
           coalesce(sa.n, 0) AS n_a, coalesce(sb.n, 0) AS n_b, coalesce(c.n_common, 0) AS n_common
    FROM bits a JOIN bits b ON a.view <> b.view CROSS JOIN n_test n
    LEFT JOIN sizes sa ON sa.view = a.view AND sa.user_idx = n.user_idx
    LEFT JOIN sizes sb ON sb.view = b.view AND sb.user_idx = n.user_idx
    LEFT JOIN common c ON c.view_a = a.view AND c.view_b = b.view AND c.user_idx = n.user_idx
)
SELECT 'jaccard' AS statistic, NULL::INTEGER AS step, view_a, view_b,
       avg(n_common / nullif(n_a + n_b - n_common, 0)) AS value
FROM pair_users GROUP BY view_a, view_b
UNION ALL
SELECT 'recall', NULL, b.view, NULL,
       coalesce((SELECT sum(h.w) FROM hits h WHERE h.mask & b.bit <> 0), 0) / (SELECT n FROM n_eval)
FROM bits b
UNION ALL
SELECT 'union_recall', step, view, NULL, union_recall FROM greedy
UNION ALL
SELECT 'marginal_gain', step, view, NULL, gain FROM greedy
ORDER BY statistic, step NULLS FIRST, view_a, view_b;
