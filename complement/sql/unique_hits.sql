-- name: unique_hits
-- description: Hits at $k found by both views, only A or only B: counts, shares, complementary hit ratio, popularity.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- requires: topk, interactions, items
-- returns: one row
-- stage: hits
--
-- Item-level, summed over users, with H_v(u) = L_v(u) ∩ T(u):
-- common = Σ|H_A ∩ H_B|, a_only = Σ|H_A \ H_B|, b_only = Σ|H_B \ H_A|;
-- share_x = x / (common + a_only + b_only) (NULL without hits; the three sum to 1);
-- complementary_hit_ratio = (a_only + b_only) / (common + a_only + b_only);
-- log_pop_x = mean of ln(1 + items.n_train) over the hit items of group x (one term per hit).
WITH hits AS (
    SELECT in_a, in_b, ln(1 + n_train) AS log_pop
    FROM test_hits($k, $view_a, $view_b)
    WHERE in_a OR in_b
),
counted AS (
    SELECT count(*) FILTER (WHERE in_a AND in_b) AS common,
           count(*) FILTER (WHERE in_a AND NOT in_b) AS a_only,
           count(*) FILTER (WHERE in_b AND NOT in_a) AS b_only,
           exact_avg(CASE WHEN in_a AND in_b THEN log_pop END) AS log_pop_common,
           exact_avg(CASE WHEN in_a AND NOT in_b THEN log_pop END) AS log_pop_a_only,
           exact_avg(CASE WHEN in_b AND NOT in_a THEN log_pop END) AS log_pop_b_only
    FROM hits
)
SELECT common, a_only, b_only,
       common / nullif(common + a_only + b_only, 0) AS share_common,
       a_only / nullif(common + a_only + b_only, 0) AS share_a_only,
       b_only / nullif(common + a_only + b_only, 0) AS share_b_only,
       (a_only + b_only) / nullif(common + a_only + b_only, 0) AS complementary_hit_ratio,
       log_pop_common, log_pop_a_only, log_pop_b_only
FROM counted;
