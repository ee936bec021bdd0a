-- denied-access-spikes, per principal: each non-human principal's denials
-- and its worst UTC hour (the latest such hour on a tie, as the check
-- reports it). A principal spikes when worst_hour_denials exceeds
-- max_denials_per_hour (20 by default). Portable.
WITH denied_hours AS (
    SELECT principal_id,
           date_trunc('hour', time) AS hour,
           COUNT(*) AS denials
    FROM window_events
    WHERE principal_type IN ('workload', 'service', 'agent')
      AND decision = 'deny'
    GROUP BY principal_id, date_trunc('hour', time)
), ranked AS (
    SELECT principal_id, hour, denials,
           SUM(denials) OVER (PARTITION BY principal_id) AS denied,
           ROW_NUMBER() OVER (PARTITION BY principal_id ORDER BY denials DESC, hour DESC) AS rank_in_principal
    FROM denied_hours
)
SELECT principal_id,
       denied,
       hour AS worst_hour,
       denials AS worst_hour_denials
FROM ranked
WHERE rank_in_principal = 1
ORDER BY principal_id;
