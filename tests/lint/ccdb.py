#!/usr/bin/env python3
"""ccdb.py BUILD SRC OUT: write to OUT the entries of BUILD's
compile_commands.json for the project's own sources (see README), one
per file, and print their paths, one a line."""
import json
import os
import sys

DIRS = ("common", "invite", "discovery", "syncd", "docs/examples")

build, src, out = sys.argv[1:4]
src = os.path.realpath(src)
roots = [os.path.join(src, d) + os.sep for d in DIRS]
with open(os.path.join(build, "compile_commands.json")) as f:
    db = json.load(f)
keep, seen = [], set()
for e in db:
    path = os.path.realpath(os.path.join(e["directory"], e["file"]))
    if path in seen or not any(path.startswith(r) for r in roots):
        continue
    seen.add(path)
    keep.append(e)
    print(path)
if not keep:
    sys.exit("ccdb.py: no project source in %s/compile_commands.json" % build)
with open(out, "w") as f:
    json.dump(keep, f)
