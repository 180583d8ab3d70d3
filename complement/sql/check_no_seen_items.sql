-- name: check_no_seen_items
-- description: Audit: no top-K list holds an item the user interacted with in the splits the list claims to mask.
-- param: exclude VARCHAR = 'recorded'
-- param: views VARCHAR[] = []
-- requires: topk, interactions, runs?
-- returns: one row per offending (view, user, rank); no rows when the audit passes
--
-- Masked splits of a view: with exclude = 'recorded' (the default), what its lists claim to mask —
-- the `exclude` that the latest run writing the view recorded in `runs.params` (steps topk, train,
-- fuse, import-topk; the shards of a sharded view, VIEW@IofN, count as the view), and train+valid,
-- the default of every step that stores lists, for a view with no such record (every view, in a
-- workspace without `runs`: the table is optional, read as empty). exclude = 'train'
-- or 'train+valid' audits every view against those splits instead (the `--exclude` of
-- `complement topk`). Every stored rank is checked, not only the first k. Computed and fused lists
-- never hold such items; lists imported with `complement topk --from` may (the import keeps and
-- counts them), and this audit names each one. Users and items are matched on their integer keys.
WITH setting AS (
    SELECT CASE WHEN $exclude IN ('recorded', 'train', 'train+valid') THEN $exclude
                ELSE error('exclude must be ''recorded'', ''train'' or ''train+valid'', not ''' || $exclude || '''')
           END AS exclude
),
recorded AS (
    SELECT regexp_replace(view, '@.*', '') AS view,
           arg_max(json_extract_string(params, '$.exclude'), finished_at) AS exclude
    FROM runs
    WHERE step IN ('topk', 'train', 'fuse', 'import-topk') AND json_extract_string(params, '$.exclude') IS NOT NULL
    GROUP BY regexp_replace(view, '@.*', '')
),
masked AS (
    -- 'train' sorts before 'valid': a pair in both splits shows as train
    SELECT user_idx, item_idx, min(split) AS split
    FROM interactions WHERE split = 'train' OR split = 'valid'
    GROUP BY user_idx, item_idx
)
SELECT t.view, t.user_id, t.rank, t.item_id, m.split
FROM topk t
JOIN masked m ON m.user_idx = t.user_idx AND m.item_idx = t.item_idx
CROSS JOIN setting s
LEFT JOIN recorded r ON r.view = t.view
WHERE view_selected($views, t.view)
  AND (m.split = 'train'
       OR CASE WHEN s.exclude = 'recorded' THEN coalesce(r.exclude, 'train+valid') ELSE s.exclude END = 'train+valid')
ORDER BY t.view, t.user_id, t.rank;
