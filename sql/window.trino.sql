-- The assessment window, for Athena (engine 3) and Trino: edit the four
-- dates (UTC, `until` exclusive, so the last partition is the day
-- before it). `access_events` is the dataset `proofpack ingest --state`
-- writes (access_events/source=.../date=.../part-*.parquet); the README
-- shows its CREATE TABLE. The `date` predicate prunes partitions.
CREATE OR REPLACE VIEW proofpack_window AS
SELECT TIMESTAMP '2026-11-01 00:00:00' AS since,
       TIMESTAMP '2026-11-08 00:00:00' AS until;

CREATE OR REPLACE VIEW window_events AS
SELECT *
FROM access_events
WHERE date >= DATE '2026-11-01' AND date <= DATE '2026-11-07'
  AND time >= TIMESTAMP '2026-11-01 00:00:00'
  AND time < TIMESTAMP '2026-11-08 00:00:00';
