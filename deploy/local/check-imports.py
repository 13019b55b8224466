#!/usr/bin/env python3
"""Checks that every module a target imports is one it declares (or the toolchain's own), and that
CRDKafka is imported only by the RDKafka layer.

`swift build --explicit-target-dependency-import-check error` catches a target importing another
target of this package undeclared; this catches the rest: a product of a dependency (SQLKit, NIOCore…)
imported because some other dependency happens to pull it in. Reads the targets from
`swift package dump-package`, so Package.swift stays the only list.
"""
import json
import os
import re
import subprocess
import sys

TOOLCHAIN = {"Foundation", "FoundationEssentials", "Synchronization", "Dispatch", "Glibc", "Musl",
             "XCTest", "Testing", "_Concurrency"}
# Modules only one folder may import: the C interop stays in the RDKafka layer.
ONLY_UNDER = {"CRDKafka": "Shared/Kafka/RDKafka/"}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\(\w+\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|typealias)\s+)?(\w+)", re.M)

swift = os.environ.get("SWIFT", "swift")
package = json.loads(subprocess.run([swift, "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
problems = []
for target in package["targets"]:
    declared = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                declared.add(dependency[kind][0])
    path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
    for folder, _, files in os.walk(path):
        for name in files:
            if not name.endswith(".swift"):
                continue
            file = os.path.join(folder, name)
            for module in set(IMPORT.findall(open(file, encoding="utf-8").read())):
                if module in ONLY_UNDER and not file.startswith(ONLY_UNDER[module]):
                    problems.append(f"{file}: imports {module}, which only {ONLY_UNDER[module]} may import")
                if module not in declared and module not in TOOLCHAIN and module != target["name"]:
                    problems.append(f"{file}: imports {module}, which target {target['name']} does not declare")
for problem in sorted(problems):
    print(problem)
if problems:
    sys.exit(f"check-imports: {len(problems)} import problem(s)")
print(f"check-imports: every import of {len(package['targets'])} targets is declared")
