-- name: item_agreement
-- description: Jaccard of each item's $k nearest neighbours in two views, per popularity group, against a permutation null.
-- param: k INTEGER = 20
-- param: view_a VARCHAR
-- param: view_b VARCHAR
-- param: n_perm INTEGER = 20
-- param: seed INTEGER = 0
-- requires: neighbors, items
-- returns: one row per pop_group (all, cold, mid, hot)
--
-- N_v(i) = neighbours of item i with rank <= k in view v. Items with a list in both views:
-- jaccard(i) = |N_A(i) ∩ N_B(i)| / |N_A(i) ∪ N_B(i)|; observed = its mean over the group's items.
-- Null: relabel view B's ids by a permutation pi of the ids view B mentions (its structure is kept,
-- its correspondence to A destroyed): N'_B(pi(j)) = {pi(n) : n in N_B(j)}, and compute the same
-- mean. Permutation p (1..n_perm) orders the ids by H = hash60('permutation|seed|p|id') (`_macros.sql`:
-- 60 bits of an MD5 digest, the same in DuckDB and Spark), ties by id: deterministic for a seed, and
-- independent across p.
-- null_mean / null_std (sample std) over the permutations; z = (observed - null_mean) / null_std
-- (NULL when null_std = 0). Group 'all' pools every item; an item's group is its own pop_group.
-- Items are matched on their integer keys (item_idx, neighbor_idx); the ids order the permutations.
WITH list_a AS (
    SELECT item_idx, neighbor_idx FROM neighbors WHERE view = $view_a AND rank <= $k
),
list_b AS (
    SELECT item_idx, item_id, neighbor_idx, neighbor_id FROM neighbors WHERE view = $view_b AND rank <= $k
),
ids_b AS (
    SELECT item_idx AS idx, item_id AS id FROM list_b UNION SELECT neighbor_idx, neighbor_id FROM list_b
),
permutation AS (
    -- position of each id in sorted order, and the id that takes that position in permutation p
    SELECT p.perm, o.idx AS original, s.idx AS permuted
    FROM (SELECT unnest(generate_series(1, $n_perm)) AS perm) p
    JOIN (SELECT idx, row_number() OVER (ORDER BY id) AS position FROM ids_b) o ON true
    JOIN (
        SELECT perm, idx,
               row_number() OVER (PARTITION BY perm ORDER BY hash60(concat_ws('|', 'permutation', CAST($seed AS VARCHAR), CAST(perm AS VARCHAR), id)), id) AS position
        FROM ids_b CROSS JOIN (SELECT unnest(generate_series(1, $n_perm)) AS perm) q
    ) s ON s.perm = p.perm AND s.position = o.position
),
variants_b AS (
    SELECT 0 AS perm, item_idx, neighbor_idx FROM list_b
    UNION ALL
    SELECT pi.perm, pi.permuted, pn.permuted
    FROM list_b b
    JOIN permutation pi ON pi.original = b.item_idx
    JOIN permutation pn ON pn.original = b.neighbor_idx AND pn.perm = pi.perm
),
size_a AS (SELECT item_idx, count(DISTINCT neighbor_idx) AS n_a FROM list_a GROUP BY item_idx),
size_b AS (SELECT perm, item_idx, count(DISTINCT neighbor_idx) AS n_b FROM variants_b GROUP BY perm, item_idx),
common AS (
    SELECT b.perm, b.item_idx, count(DISTINCT b.neighbor_idx) AS n_common
    FROM variants_b b JOIN list_a a ON a.item_idx = b.item_idx AND a.neighbor_idx = b.neighbor_idx
    GROUP BY b.perm, b.item_idx
),
per_item AS (
    SELECT sb.perm, sb.item_idx, coalesce(i.pop_group, 'unknown') AS pop_group,
           coalesce(c.n_common, 0) / (sa.n_a + sb.n_b - coalesce(c.n_common, 0)) AS jaccard
    FROM size_b sb
    JOIN size_a sa ON sa.item_idx = sb.item_idx
    LEFT JOIN common c ON c.perm = sb.perm AND c.item_idx = sb.item_idx
    LEFT JOIN items i ON i.item_idx = sb.item_idx
),
scoped AS (
    SELECT perm, item_idx, 'all' AS pop_group, jaccard FROM per_item
    UNION ALL
    SELECT perm, item_idx, pop_group, jaccard FROM per_item WHERE pop_group <> 'unknown'
),
by_perm AS (
    SELECT perm, pop_group, count(*) AS n_items, exact_avg(jaccard) AS mean_jaccard
    FROM scoped GROUP BY perm, pop_group
),
summary AS (
    SELECT pop_group,
           max(n_items) FILTER (WHERE perm = 0) AS n_items,
           max(mean_jaccard) FILTER (WHERE perm = 0) AS observed,
           exact_avg(CASE WHEN perm > 0 THEN mean_jaccard END) AS null_mean,
           std_sorted(CASE WHEN perm > 0 THEN mean_jaccard END) AS null_std
    FROM by_perm GROUP BY pop_group
)
SELECT pop_group, n_items, observed, null_mean, null_std,
       (observed - null_mean) / nullif(null_std, 0) AS z
FROM summary
WHERE n_items IS NOT NULL
ORDER BY CASE pop_group WHEN 'all' THEN 0 WHEN 'cold' THEN 1 WHEN 'mid' THEN 2 WHEN 'hot' THEN 3 ELSE 4 END, pop_group;
