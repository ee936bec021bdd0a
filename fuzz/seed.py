#!/usr/bin/env python3
"""Seeds each fuzz target's corpus (fuzz/corpus/TARGET, not committed) from
the real samples in ../shared/samples-real and the bundled samples/, in the
shape each target reads (a selector byte first where the target has one),
and from NIST's OSCAL examples for the validator. Run from the repository
root: python3 fuzz/seed.py"""

import gzip
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "fuzz" / "corpus"
MAX = 256 * 1024  # libFuzzer's default max_len is smaller; larger seeds are cut


def files(*dirs, suffixes=None):
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.rglob("*")):
            if path.is_file() and (suffixes is None or path.suffix in suffixes):
                yield path


def put(target, name, data):
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(data[:MAX])


def records(data):
    """The records of a JSON sample, as single-record seeds."""
    try:
        value = json.loads(data)
    except ValueError:
        lines = [l for l in data.splitlines() if l.strip()]
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out
    if isinstance(value, dict):
        for key in ("Records", "records", "items", "entries", "value"):
            if isinstance(value.get(key), list):
                return value[key]
        return [value]
    return value if isinstance(value, list) else [value]


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    samples = [SHARED / "samples-real", ROOT / "samples"]
    n = 0
    for path in files(*samples):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        name = f"{n:04}-{path.name}"[:80]
        n += 1
        # ingest_file: first byte picks the file name; 0 = input.json.
        pick = {".yaml": 2, ".yml": 2, ".csv": 3, ".jsonl": 1}.get(path.suffix, 0)
        put("ingest_file", name, bytes([pick]) + data)
        put("gzip_input", name, bytes([n % 256]) + data[:4096])
        if path.suffix == ".csv":
            put("credential_report", name, data)
            put("nhi_inventory_csv", name, data)
        if path.suffix in (".yaml", ".yml"):
            put("yaml_documents", name, data)
        if path.name in ("mcp.json", ".mcp.json", "claude_desktop_config.json", "mcp_config.json"):
            put("mcp_config", name, data)
        if path.suffix in (".json", ".jsonl", ".log", ".ndjson") or path.name.endswith(".json.gz"):
            for i, record in enumerate(records(data)[:20]):
                raw = json.dumps(record).encode()
                put("log_record", f"{name}-{i}", bytes([0]) + raw)
                put("inventory_record", f"{name}-{i}", raw)
    # Parquet (Security Lake's OCSF): written by DuckDB when it is at hand
    # (the test venv has it), from OCSF's example events.
    try:
        import duckdb
    except ImportError:
        duckdb = None
    if duckdb is not None:
        ocsf = SHARED / "samples-real" / "ocsf" / "ocsf-examples" / "aws-cloudtrail-v1.1.0"
        for path in sorted(ocsf.glob("*.ocsf.json")):
            target = CORPUS / f"{path.stem}.parquet"
            duckdb.execute(f"COPY (SELECT * FROM read_json_auto('{path}')) TO '{target}' (FORMAT PARQUET)")
            data = target.read_bytes()
            target.unlink()
            put("ingest_file", f"{path.stem}.parquet", bytes([0]) + data)
    for path in files(ROOT / "samples", SHARED / "samples-real", suffixes={".toml"}):
        put("config_toml", path.name, path.read_bytes())
    put("config_toml", "proofpack.toml", (ROOT / "samples" / "proofpack.toml").read_bytes())
    # A package's evidence table (evidence_parquet): the one the README's
    # main command writes, when it has been run; each filter selector.
    package_events = ROOT / "target" / "package" / "evidence" / "access_events.parquet"
    if package_events.is_file():
        data = package_events.read_bytes()
        for pick in (0, 1, 2, 3, 128, 131):
            put("evidence_parquet", f"package-{pick}", bytes([pick]) + data)
    else:
        print("evidence_parquet: no seed; run the README's generate command first")
    examples = SHARED / "oscal" / "content" / "examples"
    for path in files(examples, suffixes={".json"}):
        if path.stat().st_size <= MAX:
            put("oscal_validate", path.name, path.read_bytes())
    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{target}: {len(list((CORPUS / target).iterdir()))} seeds")


if __name__ == "__main__":
    main()
