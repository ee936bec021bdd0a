"""Baseline for `cargo bench --bench ingest`: DuckDB reading the same
CloudTrail files (gzipped `{"Records": [...]}` in AWS's layout), computing
the same normalised columns proofpack does (canonical principal with the
role-session rewrite, session name, credential type and reason from the key
prefix and identity type, action, resource, decision and reason, place,
SHA-256 of each raw record), and writing Parquet and CSV.

Two formulations, as an expert would try both; the bench takes the faster:

- `objects`: read_json_objects (each file one JSON value), from_json to a
  JSON[] of records, unnest, then `->>` on each record;
- `objects_multi`: the same, but every field in one `json_extract_string`
  call with a list of paths (one parse per record);
- `read_json`: read_json with `columns = {'Records': 'JSON[]'}`, unnest,
  then `->` / `->>` chains.

Usage: python duckdb_baseline.py CORPUS_DIR OUT_DIR FORMULATION.
Prints one JSON line."""
import json
import os
import sys
import time

import duckdb

corpus, out, formulation = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
start = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads TO 2")
if formulation in ("objects", "objects_multi"):
    records_from = f"""
    SELECT unnest(from_json(json, '{{"Records": "JSON[]"}}').Records) AS r
    FROM read_json_objects('{corpus}/**/*.json.gz', format = 'auto',
                           compression = 'gzip', maximum_object_size = 1073741824)
"""
elif formulation == "read_json":
    records_from = f"""
    SELECT unnest(Records) AS r
    FROM read_json('{corpus}/**/*.json.gz', format = 'auto', compression = 'gzip',
                   maximum_object_size = 1073741824,
                   columns = {{'Records': 'JSON[]'}})
"""
else:
    sys.exit(f"unknown formulation {formulation}")

# The fields each record is read for: one JSON path (`->>'$.a.b'`) per
# field in the `objects` formulation, `->` chains in `read_json`'s.
FIELDS = [
    ("event_time", ["eventTime"]),
    ("event_id", ["eventID"]),
    ("ut", ["userIdentity", "type"]),
    ("arn", ["userIdentity", "arn"]),
    ("akid", ["userIdentity", "accessKeyId"]),
    ("issuer", ["userIdentity", "sessionContext", "sessionIssuer", "arn"]),
    ("invoked_by", ["userIdentity", "invokedBy"]),
    ("identity_account", ["userIdentity", "accountId"]),
    ("event_source", ["eventSource"]),
    ("event_name", ["eventName"]),
    ("resource_arn", ["resources", 0, "ARN"]),
    ("bucket", ["requestParameters", "bucketName"]),
    ("error_code", ["errorCode"]),
    ("error_message", ["errorMessage"]),
    ("source_address", ["sourceIPAddress"]),
    ("user_agent", ["userAgent"]),
    ("recipient", ["recipientAccountId"]),
    ("region", ["awsRegion"]),
]


def extract(path):
    if formulation == "objects_multi":
        # One parse per record: every path in one json_extract_string call,
        # each column an element of the list it returns.
        i = [p for _, p in FIELDS].index(path) + 1
        return f"vals[{i}]"
    if formulation == "objects":
        text = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return f"r->>'{text}'"
    chain = "".join(f"->{p}" if isinstance(p, int) else f"->'{p}'" for p in path[:-1])
    last = path[-1]
    return f"r{chain}->>" + (str(last) if isinstance(last, int) else f"'{last}'")


columns = ",\n".join(f"        ({extract(path)}) AS {name}" for name, path in FIELDS)
if formulation == "objects_multi":
    paths = ", ".join(
        "'$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) + "'"
        for _, path in FIELDS
    )
    records_from = f"""
    SELECT r, json_extract_string(r, [{paths}]) AS vals FROM ({records_from})
"""
con.execute(f"""
CREATE TABLE events AS
WITH files AS ({records_from}), f AS (
    SELECT
        r,
{columns}
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
