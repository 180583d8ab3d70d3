-- name: compare
-- description: Paired comparison of two views' Recall@$k and NDCG@$k: mean difference, bootstrap CI and sign-flip permutation p-value.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: n_boot INTEGER = 1000
-- param: seed INTEGER = 0
-- param: max_units INTEGER = 10000
-- param: alpha DOUBLE = 0.05
-- requires: topk, interactions, items
-- returns: one row per metric (ndcg, recall) with n_users, n_boot, mean_a, mean_b, mean_diff, se_boot, ci_low, ci_high, p_value
--
-- Over the n evaluated users u (the per-user Recall and NDCG of `user_metrics`, as in `metrics`;
-- a user with no list for a view scores 0): d(u) = m_A(u) - m_B(u), mean_diff = (1/n) Σ d(u).
-- Resampling units: each user is a unit while n <= max_units; beyond that the users are hashed into
-- max_units buckets of about n / max_units users (a unit is a bucket), so the cost is
-- O(min(n, max_units) × n_boot) rows at any n, never users × n_boot. A unit U carries n_U users and
-- S_U = Σ_{u in U} d(u). The m units get indices 0..m-1 in unit order (user_id, or bucket number).
-- Paired bootstrap (units resampled with replacement, the pairing kept): replicate b = 1..n_boot
-- draws m indices, slot j -> index H('bootstrap', seed, b, j) mod m (uniform up to a 2^-60 bias),
-- a multinomial resample of the m units; its statistic is Σ S_U / Σ n_U over the drawn units (with
-- one user per unit: the mean of d over the drawn users, the ordinary paired bootstrap; with buckets:
-- the cluster bootstrap of the mean). se_boot = sample std of the n_boot replicate means;
-- [ci_low, ci_high] = the alpha/2 and 1 - alpha/2 percentiles of them (linear interpolation,
-- quantile_cont: numpy's default). Sign-flip permutation test of H0: d(u) symmetric about 0:
-- replicate b flips each unit's S_U with s(U, b) = ±1 from the parity of H('sign_flip', seed, b, U),
-- statistic (1/n) Σ s(U, b) S_U, and p_value = (1 + #{b : |statistic| >= |mean_diff|}) / (1 + n_boot)
-- (two-sided; the comparison allows 1e-12 for float summation order, so identical views give p = 1).
-- Draws are deterministic for a seed and the same in DuckDB and Spark: H(...) = hash60 of the
-- '|'-joined text of its arguments (`_macros.sql`: 60 bits of an MD5 digest).
WITH checked AS (SELECT n_boot FROM bootstrap_settings('compare', $n_boot, $max_units, $alpha)),
per_user AS (
    SELECT user_idx, any_value(user_id) AS user_id,
           max(recall) FILTER (WHERE view = $view_a) AS recall_a, max(recall) FILTER (WHERE view = $view_b) AS recall_b,
           max(ndcg) FILTER (WHERE view = $view_a) AS ndcg_a, max(ndcg) FILTER (WHERE view = $view_b) AS ndcg_b
    FROM user_metrics($k, [$view_a, $view_b], false)
    GROUP BY user_idx
),
observed AS (
    SELECT count(*) AS n_users,
           exact_avg(recall_a) AS recall_a, exact_avg(recall_b) AS recall_b, exact_avg(recall_a - recall_b) AS recall_diff,
           exact_avg(ndcg_a) AS ndcg_a, exact_avg(ndcg_b) AS ndcg_b, exact_avg(ndcg_a - ndcg_b) AS ndcg_diff
    FROM per_user
),
units AS (
    -- DECIMAL sums (each user's difference rounded to 18 decimals) are exact and independent of the
    -- summation order, so the replicates, the interval and the p-value are the same on every run (a DOUBLE
    -- sum is not); DECIMAL(28, 18) keeps all 18 decimals through Spark's sums as well (fusion_gap_ci)
    SELECT unit, count(*) AS n,
           CAST(sum(CAST(d_recall AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_recall,
           CAST(sum(CAST(d_ndcg AS DECIMAL(38, 18))) AS DECIMAL(28, 18)) AS s_ndcg
    FROM (
        SELECT bootstrap_unit(p.user_id, o.n_users, $max_units, $seed) AS unit,
               p.recall_a - p.recall_b AS d_recall, p.ndcg_a - p.ndcg_b AS d_ndcg
        FROM per_user p CROSS JOIN observed o
    ) AS assigned
    GROUP BY unit
),
indexed AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY unit) - 1 AS idx, unit, n, s_recall, s_ndcg FROM units
),
unit_count AS (
    SELECT count(*) AS m FROM indexed
),
replicates AS MATERIALIZED (
    SELECT unnest(generate_series(1, $n_boot)) AS b
),
draws AS (
    -- replicate b, slot j = p.idx: the index of the unit drawn into that slot (m draws per replicate)
    SELECT r.b, bootstrap_draw($seed, r.b, p.idx, c.m) AS idx
    FROM replicates r CROSS JOIN indexed p CROSS JOIN unit_count c
),
bootstrap AS (
    SELECT d.b, CAST(sum(p.s_recall) AS DOUBLE) / sum(p.n) AS recall, CAST(sum(p.s_ndcg) AS DOUBLE) / sum(p.n) AS ndcg
    FROM draws d JOIN indexed p ON p.idx = d.idx
    GROUP BY d.b
),
flipped AS (
    SELECT f.b,
           CAST(sum(CASE WHEN f.flipped THEN -f.s_recall ELSE f.s_recall END) AS DOUBLE) / o.n_users AS recall,
           CAST(sum(CASE WHEN f.flipped THEN -f.s_ndcg ELSE f.s_ndcg END) AS DOUBLE) / o.n_users AS ndcg
    FROM (
        SELECT r.b, p.s_recall, p.s_ndcg,
               hash60(concat_ws('|', 'sign_flip', CAST($seed AS VARCHAR), CAST(r.b AS VARCHAR), p.unit)) % 2 = 1 AS flipped
        FROM replicates r CROSS JOIN indexed p
    ) AS f CROSS JOIN observed o
    GROUP BY f.b, o.n_users
),
bootstrap_summary AS (
    SELECT std_sorted(recall) AS recall_se,
           quantile_cont(recall, $alpha / 2) AS recall_low, quantile_cont(recall, 1 - $alpha / 2) AS recall_high,
           std_sorted(ndcg) AS ndcg_se,
           quantile_cont(ndcg, $alpha / 2) AS ndcg_low, quantile_cont(ndcg, 1 - $alpha / 2) AS ndcg_high
    FROM bootstrap
),
permutation_summary AS (
    SELECT count(*) FILTER (WHERE abs(f.recall) >= abs(o.recall_diff) - 1e-12) AS recall_extreme,
           count(*) FILTER (WHERE abs(f.ndcg) >= abs(o.ndcg_diff) - 1e-12) AS ndcg_extreme
    FROM flipped f CROSS JOIN observed o
)
SELECT 'ndcg' AS metric, o.n_users, c.n_boot,
       o.ndcg_a AS mean_a, o.ndcg_b AS mean_b, o.ndcg_diff AS mean_diff,
       s.ndcg_se AS se_boot, s.ndcg_low AS ci_low, s.ndcg_high AS ci_high,
       (1 + p.ndcg_extreme) / (1 + c.n_boot) AS p_value
FROM observed o, checked c, bootstrap_summary s, permutation_summary p
UNION ALL
SELECT 'recall', o.n_users, c.n_boot,
       o.recall_a, o.recall_b, o.recall_diff,
       s.recall_se, s.recall_low, s.recall_high,
       (1 + p.recall_extreme) / (1 + c.n_boot)
FROM observed o, checked c, bootstrap_summary s, permutation_summary p
ORDER BY metric;
