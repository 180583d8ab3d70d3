-- name: probe_summary
-- description: Mean and standard deviation over seeds of every probe metric, per run, mapper, shift and item set.
-- param: run_id VARCHAR = ''
-- param: source VARCHAR = ''
-- param: target VARCHAR = ''
-- requires: probes
-- returns: one row per (run_id, source, target, mapper, shift, item_set, metric); an empty filter keeps all
SELECT
    run_id,
    source,
    target,
    mapper,
    shift,
    item_set,
    metric,
    count(DISTINCT seed) AS n_seeds,
    exact_avg(value) AS mean,
    coalesce(std_sorted(value), 0.0) AS std
FROM probes
WHERE ($run_id = '' OR run_id = $run_id)
  AND ($source = '' OR source = $source)
  AND ($target = '' OR target = $target)
  AND NOT isnan(value)
GROUP BY run_id, source, target, mapper, shift, item_set, metric
ORDER BY run_id, source, target,
    CASE WHEN mapper = 'cca' THEN 0 ELSE 1 END, mapper,
    shift, item_set, metric
