-- ephemeral-credentials, its failing subjects: each non-human principal
-- that used static credentials, with how many events. Portable.
SELECT principal_id,
       COUNT(*) AS static_events
FROM window_events
WHERE principal_type IN ('workload', 'service', 'agent')
  AND credential_type = 'static'
GROUP BY principal_id
ORDER BY principal_id;
