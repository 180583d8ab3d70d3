-- name: fusion_gap_ci
-- description: Each fused view's share of the oracle union_at_k gain at $k against a reference view's, with paired bootstrap CIs of the share difference and of the recall difference.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: reference VARCHAR = ''
-- param: views VARCHAR[] = []
-- param: n_boot INTEGER = 1000
-- param: seed INTEGER = 0
-- param: max_units INTEGER = 10000
-- param: alpha DOUBLE = 0.05
-- requires: topk, interactions, items
-- returns: one row per fused view (the reference excluded) with n_users, n_boot, recall, reference_recall, best_single, union_at_k, share, reference_share, share_diff, share_low, share_high, share_diff_low, share_diff_high, recall_diff, recall_diff_low, recall_diff_high
--
-- Over the n evaluated users (all test users; a user without a list for a view has no hits), with R_v the mean
-- Recall@k of view v, best_single = max(R_A, R_B) and union_at_k as in `fusion_gap` / `oracle`:
-- share(v) = (R_v - best_single) / (union_at_k - best_single) (NULL when the bound equals best_single).
-- The reference is $reference, the best existing fusion to beat; with '' it is the better single view of each
-- sample (share 0, recall best_single). The fused views are $views, or (when empty) every view in topk other
-- than $view_a, $view_b and $reference. share_diff = share(v) - share(reference); recall_diff = R_v - R_reference.
-- Paired bootstrap with compare's draws: users are the units while n <= max_units, else hashed into max_units
-- buckets; the m units get indices 0..m-1 in unit order; replicate b = 1..n_boot puts in slot j the unit
-- H('bootstrap', seed, b, j) mod m (H = hash60 of the '|'-joined text, `_macros.sql`), so for the same seed
-- recall_diff's CI equals compare's recall CI of (v, reference). Every statistic of a replicate is recomputed on
-- the drawn units (each mean is Σ sums / Σ users), the pairing kept; [low, high] = the alpha/2 and
-- 1 - alpha/2 percentiles (quantile_cont) of the replicates; replicates where the bound equals best_single
-- have no share and are left out of the share percentiles. The sums are exact (each user's recall rounded to 18
-- decimals and summed as DECIMAL, as in `fusion_gap`), so a view whose recall equals best_single or the
-- reference's has share, share_diff and recall_diff exactly 0, not a rounding residue like -4.7e-15.
WITH checked AS (SELECT n_boot FROM bootstrap_settings('fusion_gap_ci', $n_boot, $max_units, $alpha)),
fused_views AS (
    SELECT DISTINCT view FROM topk
    WHERE view NOT IN ($view_a, $view_b, $reference) AND view_selected($views, view)
),
per_user AS (
    SELECT view, user_idx, recall FROM user_metrics($k, [], false)
),
union_hits AS (
    SELECT user_idx, count(*) AS n_union FROM hit_pairs($k, $view_a, $view_b, false) GROUP BY user_idx
),
shared AS (
    -- one row per evaluated user: the source views, the union bound and the reference
    SELECT n.user_idx, any_value(n.user_id) AS user_id,
           coalesce(max(p.recall) FILTER (WHERE p.view = $view_a), 0) AS recall_a,
           coalesce(max(p.recall) FILTER (WHERE p.view = $view_b), 0) AS recall_b,
           coalesce(max(p.recall) FILTER (WHERE p.view = $reference), 0) AS recall_ref,
           least(coalesce(max(u.n_union), 0), $k) / max(n.n_test) AS union_at_k
    FROM (SELECT user_idx, any_value(user_id) AS user_id, count(*) AS n_test FROM test_items() GROUP BY user_idx) n
    LEFT JOIN per_user p ON p.user_idx = n.user_idx
    LEFT JOIN union_hits u ON u.user_idx = n.user_idx
    GROUP BY n.user_idx
),
observed AS (
    SELECT count(*) AS n_users FROM shared
),
assigned AS (
    SELECT s.*,
           bootstrap_unit(s.user_id, o.n_users, $max_units, $seed) AS unit
    FROM shared s CROSS JOIN observed o
),
units AS (
    -- DECIMAL sums are exact and independent of the summation order (a DOUBLE sum is not). A unit's sums
    -- are DECIMAL(28, 18) (up to 1e10 users a unit) and a draw count DECIMAL(9, 0), so that their product
    -- stays within 38 digits with all 18 decimals on Spark too (which otherwise cuts the scale to 6)
    SELECT unit, count(*) AS n,
           CAST(sum(CAST(recall_a AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_a,
           CAST(sum(CAST(recall_b AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_b,
           CAST(sum(CAST(recall_ref AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_ref,
           CAST(sum(CAST(union_at_k AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_union
    FROM assigned GROUP BY unit
),
indexed AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY unit) - 1 AS idx, unit, n, s_a, s_b, s_ref, s_union FROM units
),
view_units AS (
    -- Σ recall of each fused view per unit (0 for users without a list)
    SELECT f.view, i.idx, CAST(coalesce(sum(CAST(p.recall AS DECIMAL(38, 18))), 0) AS DECIMAL(28, 18)) AS s_v
    FROM fused_views f
    CROSS JOIN indexed i
    LEFT JOIN assigned a ON a.unit = i.unit
    LEFT JOIN per_user p ON p.view = f.view AND p.user_idx = a.user_idx
    GROUP BY f.view, i.idx
),
unit_count AS (
    SELECT count(*) AS m FROM indexed
),
replicates AS MATERIALIZED (
    SELECT unnest(generate_series(0, $n_boot)) AS b
),
draws AS MATERIALIZED (
    -- replicate 0 is the observed sample (each unit once); b >= 1 draws m units with replacement
    SELECT r.b,
           CASE WHEN r.b = 0 THEN p.idx
                ELSE bootstrap_draw($seed, r.b, p.idx, c.m)
           END AS idx
    FROM replicates r CROSS JOIN indexed p CROSS JOIN unit_count c
),
draw_counts AS (
    SELECT b, idx, count(*) AS times, CAST(count(*) AS DECIMAL(9, 0)) AS weight FROM draws GROUP BY b, idx
),
sample_shared AS (
    SELECT d.b, sum(d.times * p.n) AS n, sum(d.weight * p.s_a) AS s_a, sum(d.weight * p.s_b) AS s_b,
           sum(d.weight * p.s_ref) AS s_ref, sum(d.weight * p.s_union) AS s_union
    FROM draw_counts d JOIN indexed p ON p.idx = d.idx
    GROUP BY d.b
),
sample_bounds AS (
    SELECT b, n,
           greatest(s_a, s_b) AS s_best,
           s_union,
           CASE WHEN $reference = '' THEN greatest(s_a, s_b) ELSE s_ref END AS s_reference
    FROM sample_shared
),
samples AS (
    SELECT v.view, s.b, s.n, s.s_best, s.s_union, s.s_reference, sum(d.weight * v.s_v) AS s_view
    FROM view_units v
    JOIN draw_counts d ON d.idx = v.idx
    JOIN sample_bounds s ON s.b = d.b
    GROUP BY v.view, s.b, s.n, s.s_best, s.s_union, s.s_reference
),
differences AS (
    -- the exact differences of sums, 0 within the rounding of the per-user recalls: n users whose exact
    -- recalls sum alike differ by at most n * 1e-18, a billionth of one hit of one user for up to 1e9 users
    SELECT view, b, n, s_view, s_reference, s_best, s_union,
           CASE WHEN abs(s_view - s_best) <= n * 1e-18 THEN 0 ELSE s_view - s_best END AS d_view,
           CASE WHEN abs(s_reference - s_best) <= n * 1e-18 THEN 0 ELSE s_reference - s_best END AS d_reference,
           CASE WHEN abs(s_union - s_best) <= n * 1e-18 THEN 0 ELSE s_union - s_best END AS d_union,
           CASE WHEN abs(s_view - s_reference) <= n * 1e-18 THEN 0 ELSE s_view - s_reference END AS d_recall
    FROM samples
),
shares AS (
    SELECT view, b,
           CAST(s_view AS DOUBLE) / n AS recall,
           CAST(s_reference AS DOUBLE) / n AS reference_recall,
           CAST(s_best AS DOUBLE) / n AS best_single,
           CAST(s_union AS DOUBLE) / n AS union_at_k,
           CAST(d_view AS DOUBLE) / nullif(CAST(d_union AS DOUBLE), 0) AS share,
           CAST(d_reference AS DOUBLE) / nullif(CAST(d_union AS DOUBLE), 0) AS reference_share,
           CAST(d_recall AS DOUBLE) / n AS recall_diff
    FROM differences
),
summary AS (
    SELECT view,
           quantile_cont(share, $alpha / 2) AS share_low, quantile_cont(share, 1 - $alpha / 2) AS share_high,
           quantile_cont(share - reference_share, $alpha / 2) AS share_diff_low,
           quantile_cont(share - reference_share, 1 - $alpha / 2) AS share_diff_high,
           quantile_cont(recall_diff, $alpha / 2) AS recall_diff_low,
           quantile_cont(recall_diff, 1 - $alpha / 2) AS recall_diff_high
    FROM shares WHERE b > 0
    GROUP BY view
)
SELECT o.view,
       CASE WHEN $reference = '' THEN 'best_single' ELSE $reference END AS reference,
       CAST(ob.n_users AS BIGINT) AS n_users,
       c.n_boot,
       o.recall,
       o.reference_recall,
       o.best_single,
       o.union_at_k,
       o.share,
       o.reference_share,
       o.share - o.reference_share AS share_diff,
       s.share_low, s.share_high, s.share_diff_low, s.share_diff_high,
       o.recall_diff,
       s.recall_diff_low, s.recall_diff_high
FROM shares o
JOIN summary s ON s.view = o.view
CROSS JOIN checked c
CROSS JOIN observed ob
WHERE o.b = 0
ORDER BY o.view
