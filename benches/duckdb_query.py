"""Baseline for `cargo bench --bench query`: DuckDB answering the same
look-up over the same access_events.parquet, the matching rows in time
order written as CSV (as `proofpack query --format csv` writes them).

Formulations, as an expert would try them; the bench keeps the faster:

- `copy`: COPY (SELECT ... ORDER BY time) TO '/dev/stdout' (FORMAT csv);
- `relation`: the relational API, filter and order then write_csv.

Usage: python duckdb_query.py PARQUET FORMULATION WHERE
(WHERE is a SQL predicate over the table's columns). Prints the CSV."""
import sys

import duckdb

parquet, formulation, where = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if formulation == "copy":
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{parquet}') WHERE {where} ORDER BY time) "
        "TO '/dev/stdout' (FORMAT csv, HEADER)"
    )
elif formulation == "relation":
    con.read_parquet(parquet).filter(where).order("time").write_csv("/dev/stdout", header=True)
else:
    sys.exit(f"unknown formulation {formulation}")
