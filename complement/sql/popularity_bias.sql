-- name: popularity_bias
-- description: Long-tail share (APLT) and count (ACLT) of each view's top-$k lists (Abdollahpouri et al. 2019).
-- param: k INTEGER = 20
-- param: views VARCHAR[] = []
-- param: head_share DOUBLE = 0.2
-- requires: topk, interactions, items
-- returns: one row per view (every view in topk when views is empty)
--
-- Short head H: the most popular catalogue items (n_train descending, ties by item_id) taken until
-- they hold head_share of all train interactions — an item is in H when the items before it hold
-- less than that share. Long tail Γ = every other catalogue item (ids not in `items` count as tail).
-- Over evaluated users u with a list for the view, L(u) its items at rank <= k:
--   APLT = mean_u |{i ∈ L(u) : i ∈ Γ}| / |L(u)|      ACLT = mean_u |{i ∈ L(u) : i ∈ Γ}|
-- n_tail_items = |Γ| within the catalogue, the same for every view. Users and items are matched on
-- their integer keys (user_idx, item_idx); item_id only breaks popularity ties.
WITH settings AS (
    SELECT CASE WHEN $head_share >= 0 AND $head_share <= 1 THEN $head_share::DOUBLE
                ELSE error('head_share must lie in [0, 1]') END AS head_share
),
ordered AS (
    SELECT item_idx,
           sum(n_train) OVER (ORDER BY n_train DESC, item_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
           sum(n_train) OVER () AS total
    FROM items
),
head AS (
    SELECT item_idx FROM ordered CROSS JOIN settings
    WHERE coalesce(before, 0) < head_share * total
),
per_user AS (
    SELECT t.view, t.user_idx, count(*) AS n_listed, count(*) FILTER (WHERE h.item_idx IS NULL) AS n_tail
    FROM topk t LEFT JOIN head h ON h.item_idx = t.item_idx
    SEMI JOIN evaluated_users() e ON e.user_idx = t.user_idx
    WHERE t.rank <= $k AND view_selected($views, t.view)
    GROUP BY t.view, t.user_idx
)
SELECT view, count(*) AS n_users,
       exact_avg(n_tail / n_listed) AS aplt,
       exact_avg(n_tail) AS aclt,
       (SELECT count(*) FROM items) - (SELECT count(*) FROM head) AS n_tail_items
FROM per_user
GROUP BY view
ORDER BY view;
