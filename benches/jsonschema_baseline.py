"""Baseline for `cargo bench --bench validate`: what a user would otherwise
reach for, Python's jsonschema, on the same document and the same official
schema. OSCAL's patterns use \\p{L} classes, which Python's `re` lacks, so the
`regex` module stands in for `re` inside jsonschema's pattern keyword.

Prints one JSON line: {"seconds": ..., "errors": ...} (parse + validate)."""
import json
import sys
import time

import jsonschema
import jsonschema._keywords as keywords
import regex

keywords.re = regex

schema_path, document_path = sys.argv[1], sys.argv[2]
with open(schema_path, "rb") as f:
    schema = json.load(f)
start = time.perf_counter()
with open(document_path, "rb") as f:
    document = json.load(f)
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
errors = sum(1 for _ in validator.iter_errors(document))
print(json.dumps({"seconds": time.perf_counter() - start, "errors": errors}))
