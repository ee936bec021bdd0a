-- The base aggregate, per UTC day, source, principal and credential: its
-- events, denials and first and last use. `last_time` per principal or
-- credential is what unused-active-nhis compares with the inventories'
-- idle limit; it is small enough to keep for a year. Portable.
SELECT date AS day,
       source,
       principal_id,
       principal_type,
       credential_id,
       credential_type,
       COUNT(*) AS events,
       SUM(CASE WHEN decision = 'deny' THEN 1 ELSE 0 END) AS denied,
       MIN(time) AS first_time,
       MAX(time) AS last_time
FROM window_events
GROUP BY date, source, principal_id, principal_type, credential_id, credential_type
ORDER BY day, source, principal_id, credential_id;
