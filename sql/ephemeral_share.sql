-- ephemeral-credentials: events of non-human principals (workload,
-- service, agent) by credential type, per source. The check's share is
-- ephemeral / (ephemeral + static), overall and per source. Portable:
-- Athena/Trino, Spark SQL, DuckDB.
SELECT source,
       SUM(CASE WHEN credential_type = 'ephemeral' THEN 1 ELSE 0 END) AS ephemeral_events,
       SUM(CASE WHEN credential_type = 'static' THEN 1 ELSE 0 END) AS static_events,
       SUM(CASE WHEN credential_type IN ('ephemeral', 'static') THEN 0 ELSE 1 END) AS unknown_events
FROM window_events
WHERE principal_type IN ('workload', 'service', 'agent')
GROUP BY source
ORDER BY source;
