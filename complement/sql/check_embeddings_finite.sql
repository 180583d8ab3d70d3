-- name: check_embeddings_finite
-- description: Audit: every embedding vector is present, finite (no NaN or inf) and of its view's dimension.
-- requires: embeddings
-- returns: one row per offending (view, entity, id); no rows when the audit passes
--
-- A vector is finite when the double sum of its float32 components is (any NaN or inf makes the
-- sum non-finite; float32 values cannot overflow a double sum). Its dimension must equal the most
-- common dimension of its (view, entity).
WITH sized AS (
    SELECT view, entity, id, vector, array_length(vector) AS dim,
           list_sum(vector::DOUBLE[]) AS total
    FROM embeddings
),
usual AS (
    SELECT view, entity, mode(dim) AS usual_dim FROM sized GROUP BY view, entity
)
SELECT s.view, s.entity, s.id, s.dim, u.usual_dim,
       CASE WHEN s.vector IS NULL OR s.dim = 0 THEN 'missing vector'
            WHEN NOT isfinite(s.total) THEN 'non-finite value'
            ELSE 'dimension differs' END AS problem
FROM sized s JOIN usual u ON u.view = s.view AND u.entity = s.entity
WHERE s.vector IS NULL OR s.dim = 0 OR NOT isfinite(s.total) OR s.dim <> u.usual_dim
ORDER BY s.view, s.entity, s.id;
