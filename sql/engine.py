"""Runs proofpack's SQL statistics (event_stats.sql and its second pass) on
an external engine and writes each result as JSON lines.

    python engine.py ENGINE TABLE SQL_FILE OUT_DIR
    spark-submit engine.py spark TABLE SQL_FILE OUT_DIR

ENGINE is `duckdb` or `spark`. TABLE is the package's access-event table
(evidence/access_events.parquet, a local path or, for Spark, any URL its
Hadoop file systems read: s3a://, gs://, abfss://). SQL_FILE holds the
statements, parameters already written in by proofpack. Each statement
that ends with `-- result NAME` is written to OUT_DIR/NAME.jsonl; the
others run as they are (views). proofpack starts this script; it is also
what to hand a cluster's `spark-submit` (SPARK_REMOTE selects Spark
Connect).
"""

import json
import os
import re
import sys

RESULT = re.compile(r"--\s*result\s+(\w+)\s*$")


def statements(text):
    """The statements of a SQL file, each with its result name or None."""
    out = []
    current = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and not current:
            continue
        current.append(line)
        match = RESULT.search(line)
        if stripped.endswith(";") or (match and ";" in line):
            body = "\n".join(current)
            name = match.group(1) if match else None
            if match:
                body = body[: body.rfind("--")]
            body = body.strip().rstrip(";").strip()
            # Comment lines inside the statement go with it.
            body = "\n".join(
                l for l in body.splitlines() if not l.strip().startswith("--")
            )
            out.append((name, body))
            current = []
    return out


def write_rows(out_dir, name, rows):
    with open(os.path.join(out_dir, name + ".jsonl"), "w") as f:
        for row in rows:
            f.write(json.dumps(row, separators=(",", ":")))
            f.write("\n")


def run_duckdb(table, sql, out_dir):
    import duckdb

    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    # Spark's names for what DuckDB calls otherwise.
    db.execute("CREATE MACRO rlike(s, p) AS regexp_matches(s, p)")
    quoted = table.replace("'", "''")
    db.execute(
        "CREATE VIEW events AS SELECT *, file_row_number AS row, epoch_us(time) AS t "
        f"FROM read_parquet('{quoted}', file_row_number = true)"
    )
    for name, body in statements(sql):
        # DuckDB has no TEMPORARY VIEW of Spark's form; a view is the same here.
        body = body.replace("CREATE OR REPLACE TEMPORARY VIEW", "CREATE OR REPLACE VIEW")
        if name is None:
            db.execute(body)
            continue
        cursor = db.execute(body)
        columns = [d[0] for d in cursor.description]
        rows = []
        while True:
            batch = cursor.fetchmany(65536)
            if not batch:
                break
            rows.extend(dict(zip(columns, r)) for r in batch)
        write_rows(out_dir, name, rows)


def run_spark(table, sql, out_dir):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("proofpack")
    if not os.environ.get("SPARK_REMOTE") and not os.environ.get("MASTER"):
        builder = builder.master(os.environ.get("PROOFPACK_SPARK_MASTER", "local[*]"))
    spark = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("PROOFPACK_SPARK_PARTITIONS", "8"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(table).selectExpr(
        "*", "_metadata.row_index AS row", "unix_micros(time) AS t"
    )
    frame.createOrReplaceTempView("events")
    for name, body in statements(sql):
        result = spark.sql(body)
        if name is None:
            continue
        write_rows(out_dir, name, (r.asDict() for r in result.toLocalIterator()))
    spark.stop()


def main():
    engine, table, sql_file, out_dir = sys.argv[1:5]
    with open(sql_file) as f:
        sql = f.read()
    if engine == "duckdb":
        run_duckdb(table, sql, out_dir)
    elif engine == "spark":
        run_spark(table, sql, out_dir)
    else:
        sys.exit(f"unknown engine {engine!r}: duckdb or spark")


if __name__ == "__main__":
    main()
