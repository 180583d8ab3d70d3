-- name: check_no_seen_items
-- description: Audit: no top-K list holds an item the user interacted with in the masked splits.
-- param: exclude VARCHAR = 'train'
-- param: views VARCHAR[] = []
-- requires: topk, interactions
-- returns: one row per offending (view, user, rank); no rows when the audit passes
--
-- Masked splits: exclude = 'train' masks train; 'train+valid' masks train and valid (the
-- `--exclude` of `complement topk`). Every stored rank is checked, not only the first k.
-- Computed and fused lists never hold such items; lists imported with `complement topk --from`
-- may (the import keeps and counts them), and this audit names each one.
WITH masked AS (
    SELECT user_id, item_id, min(split) AS split
    FROM interactions
    WHERE split = 'train'
       OR (split = 'valid' AND CASE $exclude WHEN 'train' THEN false WHEN 'train+valid' THEN true
               ELSE error('exclude must be ''train'' or ''train+valid'', not ''' || $exclude || '''') END)
    GROUP BY user_id, item_id
)
SELECT t.view, t.user_id, t.rank, t.item_id, m.split
FROM topk t JOIN masked m ON m.user_id = t.user_id AND m.item_id = t.item_id
WHERE view_selected($views, t.view)
ORDER BY t.view, t.user_id, t.rank;
