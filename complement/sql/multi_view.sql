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
    SELECT view, position, (1::BIGINT << (position - 1)) AS bit,
           CASE WHEN n < 3 THEN error('multi_view needs at least 3 views (pass --views a,b,c)')
                WHEN n > 62 THEN error('multi_view takes at most 62 views')
                WHEN n_distinct < n THEN error('multi_view: a view is named twice')
                ELSE true END AS ok
    FROM chosen
),
bits AS (SELECT view, position, bit FROM checked WHERE ok),
lists AS MATERIALIZED (
    SELECT t.view, t.user_idx, t.item_idx, b.bit FROM topk t JOIN bits b USING (view) WHERE t.rank <= $k
),
n_test AS (SELECT user_idx, count(*) AS n_test FROM test_items() GROUP BY user_idx),
n_eval AS (SELECT count(*)::DOUBLE AS n FROM n_test),
hits AS (
    -- one row per test pair some chosen view lists: which views (bit mask) and its weight 1/|T(u)|
    SELECT bit_or(l.bit) AS mask, any_value(CAST(1 / n.n_test AS DECIMAL(38, 18))) AS w
    FROM lists l JOIN test_items() t USING (user_idx, item_idx) JOIN n_test n USING (user_idx)
    GROUP BY l.user_idx, l.item_idx
),
masks AS MATERIALIZED (
    -- the distinct sets of views that hit a test pair, each with its pairs' summed weight:
    -- R(S) = sum of w over the masks that meet S, / n_eval (w is a DECIMAL: its sums are exact in any order)
    SELECT mask, sum(w) AS w FROM hits GROUP BY mask
),
greedy AS (
    -- A step's row carries what the next step reads (the candidates and the masks as lists), so
    -- that it scores every candidate in row-wise list expressions: Spark's recursion allows no
    -- aggregate, window, sort or subquery over the previous step. Carried, the lists are computed
    -- once, not at every step.
    WITH RECURSIVE steps(step, taken, view, union_recall, candidates, masks, n_views, n_eval) AS (
        SELECT 0, 0::BIGINT, NULL::VARCHAR, 0::DOUBLE,
               (SELECT list({'view': view, 'bit': bit, 'position': position}) FROM bits),
               (SELECT list({'mask': mask, 'w': w}) FROM masks),
               (SELECT count(*) FROM bits),
               (SELECT n FROM n_eval)
        UNION ALL
        SELECT step + 1, taken | best.bit, best.view, best.recall, candidates, masks, n_views, n_eval
        FROM (
            -- the best candidate: highest union recall (rounded: sums in another order must not
            -- break a tie), then the first by name (the highest -position)
            SELECT *, list_max(list_transform(scored, lambda c: {'rounded': round(c.recall, 12), 'first': -c.position,
                                                                 'recall': c.recall, 'view': c.view, 'bit': c.bit})) AS best
            FROM (
                -- each view not taken yet, with the union recall of the taken views and it
                SELECT step, taken, candidates, masks, n_views, n_eval,
                       list_transform(
                           list_filter(candidates, lambda c: taken & c.bit = 0),
                           lambda c: {'view': c.view, 'bit': c.bit, 'position': c.position,
                                      'recall': coalesce(list_sum(list_transform(
                                                    list_filter(masks, lambda m: m.mask & (taken | c.bit) <> 0),
                                                    lambda m: m.w)), 0) / nullif(n_eval, 0)}
                       ) AS scored
                FROM steps
                WHERE step < n_views
            ) scored_steps
        ) best_steps
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
       exact_avg(n_common / nullif(n_a + n_b - n_common, 0)) AS value
FROM pair_users GROUP BY view_a, view_b
UNION ALL
SELECT 'recall', NULL, b.view, NULL, coalesce(sum(m.w), 0) / nullif(any_value(e.n), 0)
FROM bits b CROSS JOIN n_eval e LEFT JOIN masks m ON m.mask & b.bit <> 0
GROUP BY b.view
UNION ALL
SELECT s.statistic, g.step, g.view, NULL, CASE s.statistic WHEN 'union_recall' THEN g.union_recall ELSE g.gain END
FROM greedy g CROSS JOIN (SELECT unnest(['union_recall', 'marginal_gain']) AS statistic) s  -- greedy read once
ORDER BY statistic, step NULLS FIRST, view_a, view_b;
