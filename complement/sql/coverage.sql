-- name: coverage
-- description: Catalogue coverage, Gini of exposure and popularity of the recommended items at $k, per view.
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- requires: topk, items
-- returns: one row per view (every view in topk when views is empty)
--
-- Over every user with a list (not only evaluated users), slots = rows with rank <= k.
-- exposure(i) = number of slots holding catalogue item i (0 when never recommended);
-- coverage = |{i : exposure(i) > 0}| / |catalogue|;
-- gini = Σ_j (2j - n - 1) x_(j) / (n Σ x) over the n catalogue items sorted by exposure x ascending
--        (0 = equal exposure, -> 1 = all slots on one item);
-- mean_pop / mean_log_pop = mean of n_train / ln(1 + n_train) over slots holding catalogue items.
-- Recommended ids absent from `items` are left out of every column. Items are matched on their
-- integer key (item_idx); ties in exposure do not change the Gini, whatever their order.
WITH chosen AS (SELECT DISTINCT view FROM topk WHERE view_selected($views, view)),
exposure AS (
    SELECT view, item_idx, count(*) AS slots
    FROM topk WHERE rank <= $k AND view_selected($views, view)
    GROUP BY view, item_idx
),
catalogue AS (
    SELECT c.view, i.item_idx, i.n_train, coalesce(e.slots, 0) AS slots
    FROM chosen c CROSS JOIN items i
    LEFT JOIN exposure e ON e.view = c.view AND e.item_idx = i.item_idx
),
ranked AS (
    SELECT view, slots, n_train,
           row_number() OVER (PARTITION BY view ORDER BY slots, item_idx) AS position,
           count(*) OVER (PARTITION BY view) AS n_items
    FROM catalogue
)
SELECT view,
       max(n_items) AS n_items,
       count(*) FILTER (WHERE slots > 0) AS n_recommended,
       count(*) FILTER (WHERE slots > 0) / max(n_items) AS coverage,
       sum((2 * position - n_items - 1) * slots) / nullif(max(n_items) * sum(slots), 0) AS gini,
       sum(slots * n_train) / nullif(sum(slots), 0) AS mean_pop,
       CAST(sum(CAST(slots * ln(1 + n_train) AS DECIMAL(38, 18))) AS DOUBLE) / nullif(sum(slots), 0) AS mean_log_pop
FROM ranked
GROUP BY view
ORDER BY view;
