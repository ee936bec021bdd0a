"""Baseline for `cargo bench --bench ingest`: DuckDB reading the same
CloudTrail files (gzipped `{"Records": [...]}` in AWS's layout) with
read_json, computing the same normalised columns proofpack does (canonical
principal, credential type and reason from the key prefix and identity type,
action, decision from the error code), and writing Parquet and CSV.

Usage: python duckdb_baseline.py CORPUS_DIR OUT_DIR. Prints one JSON line."""
import json
import os
import sys
import time

import duckdb

corpus, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
start = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute(f"""
CREATE TABLE events AS
WITH files AS (
    SELECT unnest(Records) AS r
    FROM read_json('{corpus}/**/*.json.gz', format = 'auto', compression = 'gzip',
                   maximum_object_size = 67108864,
                   columns = {{'Records': 'JSON[]'}})
), f AS (
    SELECT
        r,
        (r->>'eventTime') AS event_time,
        (r->>'eventID') AS event_id,
        (r->'userIdentity'->>'type') AS ut,
        (r->'userIdentity'->>'arn') AS arn,
        (r->'userIdentity'->>'accessKeyId') AS akid,
        (r->'userIdentity'->'sessionContext'->'sessionIssuer'->>'arn') AS issuer,
        (r->'userIdentity'->>'invokedBy') AS invoked_by,
        (r->'userIdentity'->>'accountId') AS identity_account,
        (r->>'eventSource') AS event_source,
        (r->>'eventName') AS event_name,
        (r->'resources'->0->>'ARN') AS resource_arn,
        (r->'requestParameters'->>'bucketName') AS bucket,
        (r->>'errorCode') AS error_code,
        (r->>'errorMessage') AS error_message,
        (r->>'sourceIPAddress') AS source_address,
        (r->>'userAgent') AS user_agent,
        (r->>'recipientAccountId') AS recipient,
        (r->>'awsRegion') AS region
    FROM files
)
SELECT
    CAST(event_time AS TIMESTAMPTZ) AS time,
    'aws-cloudtrail' AS source,
    event_id,
    CASE WHEN ut = 'AssumedRole'
         THEN coalesce(nullif(issuer, ''),
                       regexp_replace(regexp_replace(arn, ':sts:', ':iam:'), ':assumed-role/([^/]+)/.*$', ':role/\\1'))
         WHEN ut = 'AWSService' THEN invoked_by
         ELSE arn END AS principal_id,
    CASE WHEN ut = 'AssumedRole' THEN regexp_extract(arn, '/([^/]+)$', 1) END AS session_name,
    akid AS credential_id,
    CASE WHEN starts_with(akid, 'ASIA') THEN 'ephemeral'
         WHEN starts_with(akid, 'AKIA') THEN 'static'
         WHEN ut IN ('AssumedRole', 'WebIdentityUser', 'SAMLUser', 'FederatedUser', 'AWSService') THEN 'ephemeral'
         ELSE 'unknown' END AS credential_type,
    CASE WHEN starts_with(akid, 'ASIA') THEN 'access key id starts with ASIA: temporary STS session credentials'
         WHEN starts_with(akid, 'AKIA') THEN 'access key id starts with AKIA: long-term IAM access key'
         ELSE 'userIdentity.type ' || coalesce(ut, '(none)') END AS credential_reason,
    replace(event_source, '.amazonaws.com', '') || ':' || event_name AS action,
    coalesce(resource_arn, CASE WHEN bucket IS NOT NULL THEN 'arn:aws:s3:::' || bucket END) AS resource,
    CASE WHEN error_code IS NULL THEN 'allow'
         WHEN contains(error_code, 'AccessDenied') OR contains(error_code, 'Unauthorized') THEN 'deny'
         ELSE 'error' END AS decision,
    CASE WHEN error_code IS NOT NULL THEN error_code || coalesce(': ' || error_message, '') END AS decision_reason,
    source_address,
    user_agent,
    coalesce(recipient, identity_account) AS account,
    region AS environment,
    sha256(CAST(r AS VARCHAR)) AS raw_sha256
FROM f
""")
rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
con.execute(f"COPY events TO '{out}/access_events.parquet' (FORMAT parquet)")
con.execute(f"COPY events TO '{out}/access_events.csv' (FORMAT csv, HEADER)")
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
