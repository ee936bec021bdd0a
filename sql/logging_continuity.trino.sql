-- logging-continuity, for Athena/Trino (and DuckDB): per source, its
-- records and the longest silence in hours, the window's edges included
-- (from `since` to the first record, from the last to `until`). The check
-- fails a source whose longest gap exceeds max_gap_hours (24 by default).
WITH sources AS (
    SELECT source, COUNT(*) AS records
    FROM window_events
    GROUP BY source
), points AS (
    SELECT source, CAST(time AS TIMESTAMP) AS point_time FROM window_events
    UNION ALL
    SELECT s.source, w.since FROM sources s CROSS JOIN proofpack_window w
    UNION ALL
    SELECT s.source, w.until FROM sources s CROSS JOIN proofpack_window w
), gaps AS (
    SELECT source,
           date_diff('millisecond', LAG(point_time) OVER (PARTITION BY source ORDER BY point_time), point_time) AS gap_ms
    FROM points
)
SELECT s.source,
       s.records,
       MAX(g.gap_ms) / 3600000.0 AS longest_gap_hours
FROM sources s
JOIN gaps g ON g.source = s.source
GROUP BY s.source, s.records
ORDER BY s.source;
