-- Shared helpers of the diagnostics, created before each one runs (not a diagnostic itself).
-- To run a diagnostic outside complement, run this file first in the same DuckDB session, or print
-- it self-contained (these macros as CTEs) with `complement diagnose show NAME --standalone`.
-- A macro over a table the workspace lacks is skipped.
-- The text is written so that sqlglot translates it to Spark SQL (docs/spark.md): array_length,
-- not len, on lists; generate_series, not range, for a table of integers.

-- A view is selected when the list of views is empty (meaning: every view) or names it.
CREATE MACRO view_selected(views, v) AS (array_length(views) = 0 OR list_contains(views, v));

-- A 60-bit integer from the MD5 digest of a text: the same value in DuckDB and Spark (where it is
-- translated to conv(substr(md5(text), 1, 15), 16, 10)), so a seed gives the same draws on both.
-- The randomised diagnostics key it with concat_ws('|', stream, seed, key, replicate).
CREATE MACRO hash60(text) AS ('0x' || substr(md5(text), 1, 15))::BIGINT;

-- The mean of x over its non-NULL rows, the same to the last bit whatever the order its rows are summed in:
-- each value rounded to 18 decimals and summed as a DECIMAL (exact), then one division. A DOUBLE avg()
-- depends on that order (DuckDB's threads, the files' order), so the same workspace could give a mean
-- differing in its last digits from run to run. A NaN, an infinity or a value of 1e9 or more (which the
-- DECIMAL sum could not hold) falls back to avg(), which gives NaN or infinity for the first two. The value cast
-- is clamped into ±1e9 as well, though that branch is only used when every value is inside: DuckDB may cast
-- rows a CASE or a WHERE has set aside (a NaN a filter removed failed the cast), and a clamped value casts.
CREATE MACRO exact_avg(x) AS (
    CASE WHEN bool_and(abs(x) < 1e9)
         THEN CAST(sum(CAST(CASE WHEN abs(x) < 1e9 THEN least(greatest(x, -1e9), 1e9) END AS DECIMAL(38, 18)))
                   AS DOUBLE) / count(x)
         ELSE avg(x) END
);

-- The sample standard deviation of x (NULLs skipped; NULL under two values), its values taken in sorted order
-- so that it is the same in any row order (stddev_samp() is not). For the few rows of a seed, permutation
-- or bootstrap summary. On Spark the same update over array_sort(collect_list(x)) (docs/spark.md).
CREATE MACRO std_sorted(x) AS (list_stddev_samp(list_sort(list(x))));

-- Joins and groupings run on the integer keys user_idx / item_idx (every reader sees them complete:
-- complement.keys fills a legacy table's); the string ids ride along for the outputs that show them.

-- T(u): the distinct test items of each user. Evaluated users are exactly the users in here.
CREATE MACRO test_items() AS TABLE
    SELECT user_idx, item_idx, any_value(user_id) AS user_id, any_value(item_id) AS item_id
    FROM interactions WHERE split = 'test'
    GROUP BY user_idx, item_idx;

-- The evaluated users: those with a non-empty test set.
CREATE MACRO evaluated_users() AS TABLE
    SELECT user_idx, any_value(user_id) AS user_id FROM interactions WHERE split = 'test' GROUP BY user_idx;

-- T(u) scoped: every test pair with pop_group 'all', and (when by_pop) again with its item's pop_group.
CREATE MACRO scoped_test_items(by_pop) AS TABLE
    SELECT user_idx, item_idx, user_id, 'all' AS pop_group FROM test_items()
    UNION ALL
    SELECT t.user_idx, t.item_idx, t.user_id, i.pop_group
    FROM test_items() t JOIN items i ON i.item_idx = t.item_idx
    WHERE by_pop AND i.pop_group IS NOT NULL;

-- IDCG@n with binary gains for n = 1..k: sum over i <= n of 1 / log2(i + 1).
CREATE MACRO ideal_dcg(k) AS TABLE
    SELECT n::INTEGER AS n, sum(1 / log2(n + 1)) OVER (ORDER BY n) AS idcg
    FROM (SELECT unnest(generate_series(1, k)) AS n);

-- One row per (view, evaluated user, pop_group scope) with the per-user metrics at k.
-- H = L ∩ T where L is the top-k list; an item listed twice counts once, at its best rank.
-- A user without a list for a view has no hits (all metrics 0).
CREATE MACRO user_metrics(k, views, by_pop) AS TABLE
    WITH truth AS (SELECT * FROM scoped_test_items(by_pop)),
    n_test AS (
        SELECT user_idx, pop_group, any_value(user_id) AS user_id, count(*) AS n_test
        FROM truth GROUP BY user_idx, pop_group
    ),
    chosen AS (SELECT DISTINCT view FROM topk WHERE view_selected(views, view)),
    hits AS (
        SELECT l.view, t.user_idx, t.pop_group, t.item_idx, min(l.rank) AS rank
        FROM topk l JOIN truth t ON l.user_idx = t.user_idx AND l.item_idx = t.item_idx
        WHERE l.rank <= k AND view_selected(views, l.view)
        GROUP BY l.view, t.user_idx, t.pop_group, t.item_idx
    ),
    user_hits AS (
        SELECT view, user_idx, pop_group, count(*) AS hits,
               CAST(sum(CAST(1 / log2(rank + 1) AS DECIMAL(38, 18))) AS DOUBLE) AS dcg, max(1 / rank) AS rr
        FROM hits GROUP BY view, user_idx, pop_group
    )
    SELECT c.view, n.user_id, n.pop_group, n.n_test,
           coalesce(h.hits, 0) AS hits,
           coalesce(h.hits, 0) / n.n_test AS recall,
           coalesce(h.hits, 0) / k AS precision,
           (coalesce(h.hits, 0) > 0)::DOUBLE AS hit,
           coalesce(h.dcg, 0) / i.idcg AS ndcg,
           coalesce(h.rr, 0) AS rr,
           n.user_idx
    FROM chosen c
    CROSS JOIN n_test n
    JOIN ideal_dcg(k) i ON i.n = least(n.n_test, k)
    LEFT JOIN user_hits h ON h.view = c.view AND h.user_idx = n.user_idx AND h.pop_group = n.pop_group;

-- One row per distinct test pair (user, item) of an evaluated user, with the item's pop_group and
-- n_train (NULL when the item is not in `items`) and whether view A's / view B's top-k list holds
-- it: in_a, in_b. So H_A(u) = {item : in_a}, H_B(u) = {item : in_b}. The top-k rows are probed
-- against the test pairs once (a semi-join on the integer keys: the costly step) and the few hits
-- joined back.
CREATE MACRO test_hits(k, view_a, view_b) AS TABLE
    WITH truth AS MATERIALIZED (
        SELECT t.user_idx, t.item_idx, t.user_id, t.item_id, i.pop_group, i.n_train
        FROM test_items() t
        LEFT JOIN items i ON i.item_idx = t.item_idx
    ),
    hits AS (
        SELECT l.user_idx, l.item_idx,
               bit_or((CASE WHEN l.view = view_a THEN 1 ELSE 0 END) | (CASE WHEN l.view = view_b THEN 2 ELSE 0 END)) AS sides
        FROM topk l
        SEMI JOIN truth t ON l.user_idx = t.user_idx AND l.item_idx = t.item_idx
        WHERE l.rank <= k AND (l.view = view_a OR l.view = view_b)
        GROUP BY l.user_idx, l.item_idx
    )
    SELECT t.user_idx, t.item_idx, t.user_id, t.item_id, t.pop_group, t.n_train,
           coalesce(h.sides & 1 = 1, false) AS in_a, coalesce(h.sides & 2 = 2, false) AS in_b
    FROM truth t LEFT JOIN hits h ON h.user_idx = t.user_idx AND h.item_idx = t.item_idx;

-- One row per (pop_group scope, user, hit item) found by view A or view B (in_a OR in_b):
-- scope 'all' always, and with by_pop also the item's own pop_group.
CREATE MACRO hit_pairs(k, view_a, view_b, by_pop) AS TABLE
    WITH hits AS MATERIALIZED (
        SELECT user_idx, item_idx, user_id, item_id, pop_group, in_a, in_b
        FROM test_hits(k, view_a, view_b) WHERE in_a OR in_b
    )
    SELECT 'all' AS pop_group, user_idx, item_idx, user_id, item_id, in_a, in_b FROM hits
    UNION ALL
    SELECT pop_group, user_idx, item_idx, user_id, item_id, in_a, in_b FROM hits WHERE by_pop AND pop_group IS NOT NULL;

-- The metrics of `user_metrics` averaged per (view, pop_group scope) over the users scored there. Each mean is an
-- exact DECIMAL sum (every user's value rounded to 18 decimals) over the count: a DOUBLE avg depends on the order
-- its rows are summed in (threads, file order), so the same workspace gave Recall@k differing in the last digits.
CREATE MACRO view_metrics(k, views, by_pop) AS TABLE
    SELECT view, pop_group, count(*) AS n_users,
           CAST(sum(CAST(recall AS DECIMAL(38, 18))) AS DOUBLE) / count(*) AS recall,
           CAST(sum(CAST(precision AS DECIMAL(38, 18))) AS DOUBLE) / count(*) AS precision,
           CAST(sum(CAST(hit AS DECIMAL(38, 18))) AS DOUBLE) / count(*) AS hit_rate,
           CAST(sum(CAST(ndcg AS DECIMAL(38, 18))) AS DOUBLE) / count(*) AS ndcg,
           CAST(sum(CAST(rr AS DECIMAL(38, 18))) AS DOUBLE) / count(*) AS mrr
    FROM user_metrics(k, views, by_pop)
    GROUP BY view, pop_group;

-- The evaluated users with a non-empty top-k list in both views, with the lists' lengths n_a, n_b.
CREATE MACRO paired_users(k, view_a, view_b) AS TABLE
    SELECT s.user_idx, s.n_a, s.n_b
    FROM (
        SELECT user_idx, count(*) FILTER (WHERE view = view_a) AS n_a, count(*) FILTER (WHERE view = view_b) AS n_b
        FROM topk WHERE rank <= k AND (view = view_a OR view = view_b)
        GROUP BY user_idx
    ) AS s
    SEMI JOIN evaluated_users() e ON e.user_idx = s.user_idx
    WHERE s.n_a > 0 AND s.n_b > 0;

-- C(u) = L_A(u) ∩ L_B(u) at rank <= k, with each item's rank in A and in B (every user with lists).
CREATE MACRO common_items(k, view_a, view_b) AS TABLE
    SELECT a.user_idx, a.item_idx, a.rank AS rank_a, b.rank AS rank_b
    FROM topk a JOIN topk b ON b.user_idx = a.user_idx AND b.item_idx = a.item_idx
    WHERE a.view = view_a AND b.view = view_b AND a.rank <= k AND b.rank <= k;

-- The bootstrap diagnostics' settings checked (an error names the diagnostic): one row, n_boot = boots.
-- (A parameter is never named like a column of its body: rendering substitutes every such name.)
CREATE MACRO bootstrap_settings(diagnostic, boots, max_units, alpha) AS TABLE
    SELECT CASE
        WHEN boots < 1 THEN error(diagnostic || ': n_boot must be at least 1, got ' || boots)
        WHEN max_units < 1 THEN error(diagnostic || ': max_units must be at least 1, got ' || max_units)
        WHEN alpha <= 0 OR alpha >= 1 THEN error(diagnostic || ': alpha must be between 0 and 1, got ' || alpha)
        ELSE boots END AS n_boot;

-- The resampling unit of a user (by its user_id) among n_users: the user itself while n_users <=
-- max_units, else one of max_units hash buckets. Units are ordered as text to index them.
CREATE MACRO bootstrap_unit(user_id, n_users, max_units, seed) AS (
    CASE WHEN n_users <= max_units THEN user_id
         ELSE CAST(hash60(concat_ws('|', 'unit', CAST(seed AS VARCHAR), user_id)) % max_units AS VARCHAR) END
);

-- The index (0..m-1) of the unit that bootstrap replicate b draws into slot j.
CREATE MACRO bootstrap_draw(seed, b, j, m) AS (
    hash60(concat_ws('|', 'bootstrap', CAST(seed AS VARCHAR), CAST(b AS VARCHAR), CAST(j AS VARCHAR))) % m
);
