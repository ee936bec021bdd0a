"""The log-based checks of `proofpack checks run`, written as the SQL a
team would otherwise run over the evidence Parquet with DuckDB: ephemeral
share (overall and per source), attributable share, longest gap per source,
denial share and worst hourly denials per NHI, human use by user agent or
console sign-in, and accounts per NHI. Prints the figures as JSON so the
benchmark can compare them with proofpack's."""

import json
import sys

import duckdb

events = sys.argv[1] + "/access_events.parquet"
con = duckdb.connect()
con.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{events}')")
nhi = "principal_type IN ('workload', 'service', 'agent')"
out = {}
out["ephemeral_share"] = con.execute(f"""
    SELECT count(*) FILTER (WHERE credential_type = 'ephemeral')::DOUBLE
         / count(*) FILTER (WHERE credential_type IN ('ephemeral', 'static'))
    FROM e WHERE {nhi}""").fetchone()[0]
out["ephemeral_by_source"] = dict(con.execute(f"""
    SELECT source, count(*) FILTER (WHERE credential_type = 'ephemeral')::DOUBLE
         / nullif(count(*) FILTER (WHERE credential_type IN ('ephemeral', 'static')), 0)
    FROM e WHERE {nhi} GROUP BY source""").fetchall())
out["static_principals"] = con.execute(f"""
    SELECT count(DISTINCT principal_id) FROM e WHERE {nhi} AND credential_type = 'static'""").fetchone()[0]
out["attributable_share"] = con.execute("""
    SELECT count(*) FILTER (WHERE principal_id IS NOT NULL AND principal_id NOT LIKE 'unknown%'
        AND decision IS NOT NULL AND resource IS NOT NULL AND time IS NOT NULL)::DOUBLE / count(*) FROM e""").fetchone()[0]
out["longest_gap_hours"] = dict(con.execute("""
    SELECT source, max(gap) FROM (
        SELECT source, epoch(time - lag(time) OVER (PARTITION BY source ORDER BY time)) / 3600.0 AS gap FROM e)
    GROUP BY source""").fetchall())
out["denied_share"] = con.execute(f"""
    SELECT count(*) FILTER (WHERE decision = 'deny')::DOUBLE / count(*) FROM e WHERE {nhi}""").fetchone()[0]
out["spiking_principals"] = con.execute(f"""
    SELECT count(DISTINCT principal_id) FROM (
        SELECT principal_id, date_trunc('hour', time) h, count(*) n FROM e
        WHERE {nhi} AND decision = 'deny' GROUP BY ALL) WHERE n > 20""").fetchone()[0]
out["human_use_principals"] = con.execute(f"""
    SELECT count(DISTINCT principal_id) FROM e WHERE {nhi} AND (
        auth_method IN ('console', 'password', 'interactive')
        OR user_agent LIKE '%Mozilla/%' OR user_agent LIKE '%kubectl/%'
        OR user_agent LIKE '%signin.amazonaws.com%' OR user_agent LIKE '%console.amazonaws.com%')""").fetchone()[0]
out["multi_account_principals"] = con.execute("""
    SELECT count(*) FROM (
        SELECT principal_id FROM e WHERE principal_type IN ('workload', 'agent')
        AND coalesce(account, environment) IS NOT NULL
        GROUP BY principal_id HAVING count(DISTINCT coalesce(account, environment)) > 1)""").fetchone()[0]
json.dump(out, sys.stdout, indent=1, default=str)
