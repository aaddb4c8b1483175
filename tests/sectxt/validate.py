#!/usr/bin/env python3
"""Checks a security.txt file with the `sectxt` validator (DigitalTrustCenter, the one internet.nl runs), as a
local file (no fetching). Prints its errors, recommendations and notifications as JSON; exits 1 if there is
any error or recommendation."""
import json
import sys

from sectxt import Parser

content = open(sys.argv[1], "rb").read()
p = Parser(content, is_local=True)
out = {"valid": p.is_valid(), "errors": p.errors, "recommendations": p.recommendations,
       "notifications": p.notifications}
print(json.dumps(out, indent=2))
sys.exit(0 if p.is_valid() and not p.errors and not p.recommendations else 1)
