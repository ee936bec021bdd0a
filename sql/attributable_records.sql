-- attributable-records: records that name a principal (not "unknown..."),
-- a decision, a resource and a time, and what the others miss. Portable.
WITH flags AS (
    SELECT (principal_id IS NULL OR principal_id = '' OR principal_id LIKE 'unknown%') AS no_principal,
           (decision IS NULL OR decision = '') AS no_decision,
           (resource IS NULL OR resource = '') AS no_resource,
           (time IS NULL) AS no_time
    FROM window_events
)
SELECT COUNT(*) AS records,
       SUM(CASE WHEN no_principal OR no_decision OR no_resource OR no_time THEN 0 ELSE 1 END) AS attributable,
       SUM(CASE WHEN no_principal THEN 1 ELSE 0 END) AS missing_principal,
       SUM(CASE WHEN no_decision THEN 1 ELSE 0 END) AS missing_decision,
       SUM(CASE WHEN no_resource THEN 1 ELSE 0 END) AS missing_resource,
       SUM(CASE WHEN no_time THEN 1 ELSE 0 END) AS missing_time
FROM flags;
