-- name: check_topk_ranks
-- description: Audit: every top-K list has ranks 1..n without gaps or repeats and no item twice.
-- param: views VARCHAR[] = []
-- requires: topk
-- returns: one row per offending (view, user) list; no rows when the audit passes
--
-- A list with n rows passes when its ranks are exactly 1..n (min 1, max n, n distinct) and its
-- n items are distinct. Lists shorter than the requested K are allowed. Users and items are
-- matched on their integer keys (user_idx, item_idx).
WITH lists AS (
    SELECT view, any_value(user_id) AS user_id, count(*) AS n_rows, min(rank) AS min_rank, max(rank) AS max_rank,
           count(DISTINCT rank) AS n_ranks, count(DISTINCT item_idx) AS n_items,
           count(*) FILTER (WHERE rank IS NULL OR item_idx IS NULL) AS n_nulls
    FROM topk
    WHERE view_selected($views, view)
    GROUP BY view, user_idx
)
SELECT view, user_id, n_rows, min_rank, max_rank, n_ranks, n_items,
       concat_ws('; ',
           CASE WHEN n_nulls > 0 THEN 'null rank or item' END,
           CASE WHEN min_rank <> 1 THEN 'ranks do not start at 1' END,
           CASE WHEN n_ranks < n_rows - n_nulls THEN 'repeated rank' END,
           CASE WHEN max_rank > n_ranks THEN 'gap in ranks' END,
           CASE WHEN n_items < n_rows - n_nulls THEN 'repeated item' END) AS problem
FROM lists
WHERE n_nulls > 0 OR min_rank <> 1 OR n_ranks <> n_rows OR max_rank <> n_rows OR n_items <> n_rows
ORDER BY view, user_id;
