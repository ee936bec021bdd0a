-- denied-access-spikes, overall: events of non-human principals and how
-- many were denied. Portable.
SELECT COUNT(*) AS nhi_events,
       SUM(CASE WHEN decision = 'deny' THEN 1 ELSE 0 END) AS denied
FROM window_events
WHERE principal_type IN ('workload', 'service', 'agent');
