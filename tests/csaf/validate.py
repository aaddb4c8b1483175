#!/usr/bin/env python3
"""Validates a CSAF 2.0 document (the file named, or standard input) against the OASIS CSAF 2.0 JSON schema
and the FIRST CVSS schemas it references, offline: the schemas are the copies next to this script.
Prints each violation with its JSON path; exits 1 if there is any."""
import json
import pathlib
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver: deprecated in newer jsonschema, fine here

from jsonschema import Draft202012Validator, FormatChecker, RefResolver

here = pathlib.Path(__file__).parent
schema = json.loads((here / "csaf_json_schema.json").read_text())
store = {}
for version in ["2.0", "3.0", "3.1"]:
    cvss = json.loads((here / f"cvss-v{version}.json").read_text())
    store[f"https://www.first.org/cvss/cvss-v{version}.json"] = cvss
    store[cvss["$id"]] = cvss
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema, resolver=RefResolver.from_schema(schema, store=store), format_checker=FormatChecker())
document = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
for e in errors:
    print(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}")
sys.exit(1 if errors else 0)
