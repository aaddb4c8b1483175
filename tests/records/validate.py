#!/usr/bin/env python3
"""Validates a vulnerability record against its format's published schema, offline.

    validate.py cve FILE   the CNA container of a CVE record (CVE JSON 5.1.1 cnaPublishedContainer, the schema
                           cvelib ships for CVE Services)
    validate.py osv FILE   an OSV entry (tests/osv/schema.json)

Prints each violation with its JSON path; exits 1 if there is any."""
import importlib.resources
import json
import pathlib
import sys

import jsonschema

kind, path = sys.argv[1], sys.argv[2]
record = json.loads(pathlib.Path(path).read_text())
if kind == "cve":
    schema = json.loads(
        (importlib.resources.files("cvelib") / "schemas" / "CVE_JSON_cnaPublishedContainer_5.1.1.json").read_text()
    )
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
elif kind == "osv":
    schema = json.loads((pathlib.Path(__file__).parent.parent / "osv" / "schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
else:
    sys.exit(f"unknown kind {kind!r}: cve or osv")
errors = sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path))
for e in errors:
    print(f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}")
sys.exit(1 if errors else 0)
