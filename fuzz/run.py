#!/usr/bin/env python3
"""Runs every fuzz target for SECONDS each (default 600), JOBS at a time
(default 2, one per core), with libFuzzer's RSS cap at 2 GB and a 10 s
limit per input; prints a Markdown table of executions, coverage and
findings. Build first: cargo +nightly fuzz build -s none -a; seed with
python3 fuzz/seed.py. Usage: python3 fuzz/run.py [SECONDS] [TARGET...]"""

import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
BIN = FUZZ / "target" / "x86_64-unknown-linux-gnu" / "release"
DICTS = {
    "ingest_file": ["json", "csv", "yaml"],
    "log_record": ["json"],
    "inventory_record": ["json"],
    "credential_report": ["csv"],
    "nhi_inventory_csv": ["csv"],
    "yaml_documents": ["yaml"],
    "config_toml": ["toml"],
    "oscal_validate": ["oscal"],
    "gzip_input": [],
    "mcp_config": ["json", "mcp"],
    "secret_gate": [],
    "evidence_parquet": [],
}


def dictionary(target):
    names = DICTS[target]
    if not names:
        return []
    out = FUZZ / "target" / f"{target}.dict"
    out.write_text("".join((FUZZ / "dict" / f"{n}.dict").read_text() for n in names))
    return [f"-dict={out}"]


def run(target, seconds):
    corpus = FUZZ / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts = FUZZ / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(BIN / target),
        str(corpus),
        f"-max_total_time={seconds}",
        "-rss_limit_mb=2048",
        "-timeout=10",
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
        *dictionary(target),
    ]
    log = FUZZ / "target" / f"{target}.log"
    with open(log, "w") as out:
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=FUZZ).returncode
    text = log.read_text(errors="replace")
    stat = lambda name: (re.findall(rf"stat::{name}:\s+(\d+)", text) or ["?"])[-1]
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text)
    cov, ft, corp = cov[-1] if cov else ("?", "?", "?")
    crashes = sorted(p.name for p in artifacts.iterdir())
    return target, code, stat("number_of_executed_units"), stat("peak_rss_mb"), cov, ft, corp, crashes, log


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    targets = sys.argv[2:] or list(DICTS)
    jobs = int(os.environ.get("JOBS", "2"))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda t: run(t, seconds), targets))
    print(f"\n| target | seconds | executions | coverage (edges) | features | corpus | peak RSS | findings |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    failed = False
    for target, code, execs, rss, cov, ft, corp, crashes, log in results:
        failed |= code != 0 or bool(crashes)
        found = ", ".join(crashes) if crashes else ("none" if code == 0 else f"exit {code}, see {log}")
        print(f"| {target} | {seconds} | {execs} | {cov} | {ft} | {corp} | {rss} MB | {found} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
