-- The statistics proofpack's log-based checks are computed from, as SQL for
-- a distributed engine (Spark SQL, DuckDB; Athena/Trino with the same
-- functions). `proofpack generate --engine spark|duckdb` runs it and
-- builds the package from its results; a test asserts that they equal
-- the embedded engine's (src/checks/aggregate/stats.rs), field by field.
--
-- Input: a view `events` over the access-event table with a `row` column
-- (the event's position in the package's evidence/access_events.parquet)
-- and `t` (its time in microseconds since the epoch). The driver adds
-- them. Each statement below ending in `-- result NAME` is a result the
-- driver returns; the others are views. Parameters are written in by the
-- driver where a name stands in braces: the matched interactive user
-- agents (a `concat_ws` of CASE terms), the expiring inventory ids and
-- the rows kept per list (50).
--
-- Empty strings count as absent, as in the embedded engine.

CREATE OR REPLACE TEMPORARY VIEW ev AS
SELECT row,
       t,
       NULLIF(source, '') AS source,
       NULLIF(principal_id, '') AS principal,
       NULLIF(principal_type, '') AS kind,
       NULLIF(principal_reason, '') AS reason,
       NULLIF(credential_id, '') AS credential,
       NULLIF(credential_type, '') AS credential_type,
       NULLIF(auth_method, '') AS auth_method,
       NULLIF(action, '') AS action,
       NULLIF(resource, '') AS resource,
       NULLIF(decision, '') AS decision,
       NULLIF(user_agent, '') AS user_agent,
       COALESCE(NULLIF(account, ''), NULLIF(environment, '')) AS place,
       CASE WHEN principal_type IN ('workload', 'service', 'agent') THEN 1 ELSE 0 END AS nhi,
       CASE WHEN credential_type = 'ephemeral' THEN 0
            WHEN credential_type = 'static' THEN 1
            ELSE 2 END AS slot
FROM events;

-- Every list of rows a finding may cite, one membership per line.
CREATE OR REPLACE TEMPORARY VIEW memberships AS
SELECT 'missing' AS list, 'principal' AS k1, '' AS k2, row FROM ev
  WHERE principal IS NULL OR principal LIKE 'unknown%'
UNION ALL SELECT 'missing', 'decision', '', row FROM ev WHERE decision IS NULL
UNION ALL SELECT 'missing', 'resource', '', row FROM ev WHERE resource IS NULL
UNION ALL SELECT 'missing', 'time', '', row FROM ev WHERE t IS NULL
UNION ALL SELECT 'events', COALESCE(principal, ''), '', row FROM ev
UNION ALL SELECT 'workload_or_agent', COALESCE(principal, ''), '', row FROM ev
  WHERE kind IN ('workload', 'agent')
UNION ALL SELECT 'static_nhi', COALESCE(principal, ''), '', row FROM ev
  WHERE nhi = 1 AND credential_type = 'static'
UNION ALL SELECT 'interactive', COALESCE(principal, ''), why, row FROM (
  SELECT principal, row, nhi,
         CASE WHEN auth_method IN ('console', 'password', 'interactive')
              THEN concat('method:', auth_method)
              ELSE concat('agents:', {interactive}) END AS why
  FROM ev) m
  WHERE nhi = 1 AND why <> 'agents:'
UNION ALL SELECT 'denied_nhi', COALESCE(principal, ''), '', row FROM ev
  WHERE nhi = 1 AND decision = 'deny'
UNION ALL SELECT 'denied_by_hour', COALESCE(principal, ''),
                 CAST(CAST(floor(COALESCE(t, 0) / 3600000000.0) AS BIGINT) AS STRING), row FROM ev
  WHERE nhi = 1 AND decision = 'deny'
UNION ALL SELECT 'agent_with_human_identity', COALESCE(principal, ''), '', row FROM ev
  WHERE kind = 'agent' AND instr(COALESCE(reason, ''), 'identity alone says human') > 0
UNION ALL SELECT 'agent_static', COALESCE(principal, ''), '', row FROM ev
  WHERE kind = 'agent' AND credential_type = 'static'
UNION ALL SELECT 'anonymous_allowed', COALESCE(resource, '(no resource named)'),
                 COALESCE(action, ''), row FROM ev
  WHERE kind = 'anonymous' AND decision = 'allow'
UNION ALL SELECT 'places', COALESCE(principal, '?'), place, row FROM ev
  WHERE kind IN ('workload', 'agent') AND place IS NOT NULL
UNION ALL SELECT 'places', credential, place, row FROM ev
  WHERE place IS NOT NULL AND credential IS NOT NULL
    AND credential <> COALESCE(principal, '?')
    AND ((kind IN ('workload', 'agent') AND COALESCE(credential_type, '') <> 'ephemeral')
         OR (kind = 'service' AND credential_type = 'static'));

-- The first {rows_kept} rows of each list, with its total.
SELECT list, k1, k2, total, row FROM (
  SELECT list, k1, k2, row,
         ROW_NUMBER() OVER (PARTITION BY list, k1, k2 ORDER BY row) AS rn,
         COUNT(*) OVER (PARTITION BY list, k1, k2) AS total
  FROM memberships) kept
WHERE rn <= {rows_kept}; -- result lists

SELECT COUNT(*) AS records,
       MIN(t) AS min_time,
       SUM(CASE WHEN principal IS NOT NULL AND principal NOT LIKE 'unknown%'
                 AND decision IS NOT NULL AND resource IS NOT NULL AND t IS NOT NULL
                THEN 1 ELSE 0 END) AS attributable,
       SUM(nhi) AS nhi_events,
       SUM(CASE WHEN nhi = 1 AND decision = 'deny' THEN 1 ELSE 0 END) AS nhi_denied,
       SUM(CASE WHEN kind = 'anonymous' THEN 1 ELSE 0 END) AS anonymous
FROM ev; -- result totals

SELECT COALESCE(source, '?') AS source,
       SUM(CASE WHEN t IS NOT NULL AND source IS NOT NULL THEN 1 ELSE 0 END) AS timed,
       SUM(CASE WHEN nhi = 1 AND slot = 0 THEN 1 ELSE 0 END) AS nhi_ephemeral,
       SUM(CASE WHEN nhi = 1 AND slot = 1 THEN 1 ELSE 0 END) AS nhi_static,
       SUM(CASE WHEN nhi = 1 AND slot = 2 THEN 1 ELSE 0 END) AS nhi_unknown,
       SUM(CASE WHEN slot = 0 THEN 1 ELSE 0 END) AS all_ephemeral,
       SUM(CASE WHEN slot = 1 THEN 1 ELSE 0 END) AS all_static,
       SUM(CASE WHEN slot = 2 THEN 1 ELSE 0 END) AS all_unknown
FROM ev
GROUP BY COALESCE(source, '?'); -- result sources

-- Each source's minutes: the first and the last record of each, by time
-- then row.
SELECT source, minute, t, row, a, b FROM (
  SELECT source, CAST(floor(t / 60000000.0) AS BIGINT) AS minute, t, row,
         ROW_NUMBER() OVER (PARTITION BY source, CAST(floor(t / 60000000.0) AS BIGINT)
                            ORDER BY t, row) AS a,
         ROW_NUMBER() OVER (PARTITION BY source, CAST(floor(t / 60000000.0) AS BIGINT)
                            ORDER BY t DESC, row DESC) AS b
  FROM ev WHERE t IS NOT NULL AND source IS NOT NULL) m
WHERE a = 1 OR b = 1; -- result minutes

SELECT CAST(floor(t / 86400000000.0) AS BIGINT) AS day,
       COUNT(*) AS events,
       SUM(CASE WHEN decision = 'deny' THEN 1 ELSE 0 END) AS denied
FROM ev WHERE t IS NOT NULL
GROUP BY CAST(floor(t / 86400000000.0) AS BIGINT); -- result days

SELECT DISTINCT COALESCE(principal, '?') AS principal
FROM ev WHERE kind IN ('workload', 'agent') AND place IS NOT NULL; -- result placed

SELECT COALESCE(principal, '') AS principal,
       SUM(nhi) AS nhi_events,
       SUM(CASE WHEN kind = 'agent' THEN 1 ELSE 0 END) AS as_agent,
       MAX(CASE WHEN kind = 'agent' AND reason LIKE 'user agent names%' THEN 1 ELSE 0 END)
         AS agent_by_user_agent
FROM ev
GROUP BY COALESCE(principal, ''); -- result principals

-- The first row of a kind per principal, with what it says.
SELECT what, principal, row, value FROM (
  SELECT what, principal, row, value,
         ROW_NUMBER() OVER (PARTITION BY what, principal ORDER BY row) AS rn
  FROM (
    SELECT 'denied' AS what, COALESCE(principal, '') AS principal, row,
           CAST(t AS STRING) AS value
    FROM ev WHERE nhi = 1 AND decision = 'deny'
    UNION ALL
    SELECT 'as_agent', COALESCE(principal, ''), row, COALESCE(reason, '')
    FROM ev WHERE kind = 'agent'
    UNION ALL
    SELECT 'agent_static_credential', COALESCE(principal, ''), row, credential
    FROM ev WHERE kind = 'agent' AND credential_type = 'static' AND credential IS NOT NULL
  ) f) firsts
WHERE rn = 1; -- result firsts

-- The latest use of every principal and credential (the driver keeps the
-- inventoried ones).
SELECT name, MAX(t) AS t FROM (
  SELECT principal AS name, t FROM ev WHERE principal IS NOT NULL AND t IS NOT NULL
  UNION ALL
  SELECT credential, t FROM ev WHERE credential IS NOT NULL AND t IS NOT NULL
) u GROUP BY name; -- result last_seen

-- What allowed events revoked: a deleted or disabled identity or key, at
-- its earliest revocation.
CREATE OR REPLACE TEMPORARY VIEW revocations AS
SELECT target, t, row FROM (
  SELECT target, t, row, ROW_NUMBER() OVER (PARTITION BY target ORDER BY t, row) AS rn
  FROM (
    SELECT CASE
             WHEN action = 'delete'
               THEN CASE WHEN rlike(resource, '^namespaces/[^/]*/serviceaccounts/[^/]*$')
                         THEN concat('system:serviceaccount:',
                                     regexp_extract(resource, '^namespaces/([^/]*)/', 1), ':',
                                     regexp_extract(resource, '/serviceaccounts/([^/]*)$', 1))
                    END
             WHEN regexp_extract(action, '([^:.]*)$', 1) IN
                  ('DeleteUser', 'DeleteRole', 'DeleteServiceAccount', 'DisableServiceAccount',
                   'DeleteServiceAccountKey', 'DisableServiceAccountKey')
               THEN NULLIF(regexp_extract(resource, '([^/]*)$', 1), '')
           END AS target,
           t, row
    FROM ev
    WHERE decision = 'allow' AND action IS NOT NULL AND resource IS NOT NULL AND t IS NOT NULL
  ) r WHERE target IS NOT NULL) firsts
WHERE rn = 1;

SELECT target, t, row FROM revocations; -- result revocations

-- The events made after an identity was revoked (by the logs) or expired
-- (by the inventory). The driver writes the expiring ids in as VALUES
-- rows (id, microseconds), led by a row of NULLs so that it is never empty.
CREATE OR REPLACE TEMPORARY VIEW expiring AS
SELECT * FROM (VALUES {expiring}) AS v(id, expires_t);

-- A principal matches a revocation by its full id, else by its last
-- segment (arn:...:user/ci -> ci), the first that it used after.
CREATE OR REPLACE TEMPORARY VIEW after_revocation_or_expiry AS
SELECT 'revoked_uses' AS list, e.principal AS k1,
       CASE WHEN r1.target IS NOT NULL AND e.t > r1.t THEN e.principal
            ELSE regexp_extract(e.principal, '([^/:]*)$', 1) END AS k2,
       e.row
FROM ev e
LEFT JOIN revocations r1 ON r1.target = e.principal
LEFT JOIN revocations r2 ON r2.target = regexp_extract(e.principal, '([^/:]*)$', 1)
WHERE e.principal IS NOT NULL AND e.t IS NOT NULL
  AND ((r1.target IS NOT NULL AND e.t > r1.t)
       OR (r2.target IS NOT NULL AND e.t > r2.t))
UNION ALL
SELECT 'used_after_expiry', x.id, '', e.row
FROM ev e JOIN expiring x ON x.id = e.principal
WHERE e.t IS NOT NULL AND e.t > x.expires_t
UNION ALL
SELECT 'used_after_expiry', x.id, '', e.row
FROM ev e JOIN expiring x ON x.id = e.credential
WHERE e.principal IS NOT NULL AND e.t IS NOT NULL AND e.t > x.expires_t
  AND e.credential <> e.principal;

SELECT list, k1, k2, total, row FROM (
  SELECT list, k1, k2, row,
         ROW_NUMBER() OVER (PARTITION BY list, k1, k2 ORDER BY row) AS rn,
         COUNT(*) OVER (PARTITION BY list, k1, k2) AS total
  FROM after_revocation_or_expiry) kept
WHERE rn <= {rows_kept}; -- result after
