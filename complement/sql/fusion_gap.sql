-- name: fusion_gap
-- description: Recall@$k of each fused or aligned view next to its two source views, the oracle bounds (union_at_k, best_view) and the share of the oracle gain it captures, overall and per pop_group.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: views VARCHAR[] = []
-- requires: topk, interactions, items
-- returns: one row per (fused view, pop_group); pop_group 'all' first, then cold, mid, hot
--
-- The fused views are $views, or (when empty) every view in topk other than $view_a and $view_b.
-- best_single = max(R_A, R_B), the better single view's mean Recall@k in that scope.
-- union_at_k = mean over users of min(|(L_A ∪ L_B) ∩ T(u)|, k) / |T(u)|; best_view = mean over users of
-- max(R_A(u), R_B(u)) (docs/diagnostics.md, "oracle"). share_of_<bound>_gain = (recall - best_single) / (bound - best_single),
-- NULL when the bound equals best_single. gain and the shares are computed from exact sums (below), so a view
-- whose recall equals best_single has gain and share exactly 0, not a rounding residue like -4.7e-15. Per pop_group the truth T(u) is restricted to the group's items and
-- only users with test items in the group are evaluated; a user without a list for a view has no hits.
WITH fused_views AS (
    SELECT DISTINCT view FROM topk
    WHERE view NOT IN ($view_a, $view_b) AND view_selected($views, view)
),
per_user AS (
    SELECT view, user_idx, pop_group, n_test, recall, ndcg
    FROM user_metrics($k, [], true)
),
sources AS (
    SELECT user_idx, pop_group,
           max(recall) FILTER (WHERE view = $view_a) AS recall_a,
           max(recall) FILTER (WHERE view = $view_b) AS recall_b
    FROM per_user
    WHERE view IN ($view_a, $view_b)
    GROUP BY user_idx, pop_group
),
union_hits AS (
    SELECT user_idx, pop_group, count(*) AS n_union
    FROM hit_pairs($k, $view_a, $view_b, true)
    GROUP BY user_idx, pop_group
),
bounds AS (
    SELECT s.pop_group,
           count(*) AS n_users,
           -- Exact sums for the differences: each user's recall (a ratio hits / n_test, rounded to 18 decimals,
           -- error <= 5e-19) summed as DECIMAL, which is exact and independent of the summation order (a
           -- DOUBLE avg is not: the same recalls summed in two groups differ in the last bits). Two sums of n
           -- users whose exact recalls sum alike differ by at most n * 1e-18 after that rounding, a billionth
           -- of one hit of one user (1 / n_test) for up to 1e9 users; a difference that small is treated as 0.
           sum(CAST(s.recall_a AS DECIMAL(38, 18))) AS sum_a,
           sum(CAST(s.recall_b AS DECIMAL(38, 18))) AS sum_b,
           sum(CAST(least(coalesce(u.n_union, 0), $k) / n.n_test AS DECIMAL(38, 18))) AS sum_union_at_k,
           sum(CAST(greatest(s.recall_a, s.recall_b) AS DECIMAL(38, 18))) AS sum_best_view
    FROM sources s
    JOIN (SELECT DISTINCT user_idx, pop_group, n_test FROM per_user) n USING (user_idx, pop_group)
    LEFT JOIN union_hits u USING (user_idx, pop_group)
    GROUP BY s.pop_group
),
fused AS (
    SELECT view, pop_group, count(*) AS n_fused, exact_avg(ndcg) AS ndcg, sum(CAST(recall AS DECIMAL(38, 18))) AS sum_recall
    FROM per_user
    WHERE view IN (SELECT view FROM fused_views)
    GROUP BY view, pop_group
),
gains AS (
    -- sums over the users of (recall - best_single), (union_at_k - best_single) and (best_view - best_single)
    -- the means from the same sums, so that a recall equal to best_single prints as the same number
    SELECT f.view, f.pop_group, f.ndcg, b.n_users,
           CAST(f.sum_recall AS DOUBLE) / f.n_fused AS recall,
           CAST(b.sum_a AS DOUBLE) / b.n_users AS recall_a,
           CAST(b.sum_b AS DOUBLE) / b.n_users AS recall_b,
           CAST(b.sum_union_at_k AS DOUBLE) / b.n_users AS union_at_k,
           CAST(b.sum_best_view AS DOUBLE) / b.n_users AS best_view,
           f.sum_recall - greatest(b.sum_a, b.sum_b) AS gain,
           b.sum_union_at_k - greatest(b.sum_a, b.sum_b) AS union_gain,
           b.sum_best_view - greatest(b.sum_a, b.sum_b) AS view_gain
    FROM fused f
    JOIN bounds b USING (pop_group)
),
differences AS (
    -- each exact sum, 0 within the rounding of the per-user recalls (bounds)
    SELECT view, pop_group, recall, ndcg, n_users, recall_a, recall_b, union_at_k, best_view,
           CASE WHEN abs(gain) <= n_users * 1e-18 THEN 0 ELSE gain END AS sum_gain,
           CASE WHEN abs(union_gain) <= n_users * 1e-18 THEN 0 ELSE union_gain END AS sum_union_gain,
           CASE WHEN abs(view_gain) <= n_users * 1e-18 THEN 0 ELSE view_gain END AS sum_view_gain
    FROM gains
)
SELECT view,
       $view_a AS view_a,
       $view_b AS view_b,
       pop_group,
       n_users,
       recall,
       ndcg,
       recall_a,
       recall_b,
       greatest(recall_a, recall_b) AS best_single,
       union_at_k,
       best_view,
       CAST(sum_gain AS DOUBLE) / n_users AS gain,
       CAST(sum_gain AS DOUBLE) / nullif(CAST(sum_union_gain AS DOUBLE), 0) AS share_of_union_at_k_gain,
       CAST(sum_gain AS DOUBLE) / nullif(CAST(sum_view_gain AS DOUBLE), 0) AS share_of_best_view_gain
FROM differences
ORDER BY view, CASE pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END
