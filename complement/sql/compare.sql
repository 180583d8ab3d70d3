-- name: compare
-- description: Paired comparison of two views' Recall@$k and NDCG@$k: mean difference, bootstrap CI and sign-flip permutation p-value.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: n_boot INTEGER = 1000
-- param: seed INTEGER = 0
-- param: alpha DOUBLE = 0.05
-- requires: topk, interactions, items
-- returns: one row per metric (ndcg, recall) with n_users, n_boot, mean_a, mean_b, mean_diff, se_boot, ci_low, ci_high, p_value
--
-- Over the n evaluated users u (the per-user Recall and NDCG of `user_metrics`, as in `metrics`;
-- a user with no list for a view scores 0): d(u) = m_A(u) - m_B(u), mean_diff = (1/n) Σ d(u).
-- Paired bootstrap (resampling users with replacement, the pairing kept): users get indices
-- 0..n-1 in user_id order; replicate b = 1..n_boot draws n indices, slot j -> index
-- H(j, b) mod n (uniform up to a 2^-64 bias), so each replicate is a multinomial resample of n
-- users, the same user possibly several times; its statistic is
-- the mean of d over the drawn users. se_boot = sample std of the n_boot replicate means;
-- [ci_low, ci_high] = the alpha/2 and 1 - alpha/2 percentiles of them (linear interpolation,
-- quantile_cont: numpy's default). Sign-flip permutation test of H0: d(u) symmetric about 0:
-- replicate b flips d(u) with s(u, b) = ±1 from the parity of H(user_id, b), and
-- p_value = (1 + #{b : |mean of s·d| >= |mean_diff|}) / (1 + n_boot) (two-sided; the comparison
-- allows 1e-12 for float summation order, so identical views give p = 1).
-- Draws are deterministic for a seed: H(key, b) = hash(xor(hash(key, seed, stream), b)), the
-- outer hash fully mixing its one 64-bit input (DuckDB's multi-argument hash combines arguments
-- almost linearly: its parity takes only 2 values over b, so it is not used on b directly).
-- Cost: O(n_users × n_boot) rows, twice (100k users × 1000 replicates: about 6 s on 2 cores).
WITH checked AS (
    SELECT CASE
        WHEN $n_boot < 1 THEN error('compare: n_boot must be at least 1, got ' || $n_boot)
        WHEN $alpha <= 0 OR $alpha >= 1 THEN error('compare: alpha must be between 0 and 1, got ' || $alpha)
        ELSE $n_boot END AS n_boot
),
per_user AS (
    SELECT user_id,
           max(recall) FILTER (WHERE view = $view_a) AS recall_a, max(recall) FILTER (WHERE view = $view_b) AS recall_b,
           max(ndcg) FILTER (WHERE view = $view_a) AS ndcg_a, max(ndcg) FILTER (WHERE view = $view_b) AS ndcg_b
    FROM user_metrics($k, [$view_a, $view_b], false)
    GROUP BY user_id
),
paired AS MATERIALIZED (
    SELECT idx, recall_a, recall_b, recall_a - recall_b AS d_recall,
           ndcg_a, ndcg_b, ndcg_a - ndcg_b AS d_ndcg,
           hash(idx, $seed, 'bootstrap') AS slot_key,
           hash(user_id, $seed, 'sign_flip') AS flip_key
    FROM (SELECT row_number() OVER (ORDER BY user_id) - 1 AS idx, * FROM per_user)
),
observed AS (
    SELECT count(*) AS n_users,
           avg(recall_a) AS recall_a, avg(recall_b) AS recall_b, avg(d_recall) AS recall_diff,
           avg(ndcg_a) AS ndcg_a, avg(ndcg_b) AS ndcg_b, avg(d_ndcg) AS ndcg_diff
    FROM paired
),
replicates AS MATERIALIZED (
    SELECT b FROM range(1, $n_boot + 1) r(b)
),
draws AS (
    -- replicate b, slot j = p.idx: the index of the user drawn into that slot (n draws per replicate).
    -- The modulus is cast to UBIGINT: UBIGINT % BIGINT is computed as HUGEINT, about 10x slower.
    SELECT r.b, (hash(xor(p.slot_key, r.b::UBIGINT)) % o.n_users::UBIGINT)::BIGINT AS idx
    FROM replicates r CROSS JOIN paired p CROSS JOIN observed o
),
bootstrap AS (
    SELECT d.b, avg(p.d_recall) AS recall, avg(p.d_ndcg) AS ndcg
    FROM draws d JOIN paired p ON p.idx = d.idx
    GROUP BY d.b
),
flipped AS (
    SELECT b, avg(flip_sign * d_recall) AS recall, avg(flip_sign * d_ndcg) AS ndcg
    FROM (
        SELECT r.b, p.d_recall, p.d_ndcg,
               1 - 2 * (hash(xor(p.flip_key, r.b::UBIGINT)) & 1)::INTEGER AS flip_sign
        FROM replicates r CROSS JOIN paired p
    )
    GROUP BY b
),
bootstrap_summary AS (
    SELECT stddev_samp(recall) AS recall_se,
           quantile_cont(recall, $alpha / 2) AS recall_low, quantile_cont(recall, 1 - $alpha / 2) AS recall_high,
           stddev_samp(ndcg) AS ndcg_se,
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
