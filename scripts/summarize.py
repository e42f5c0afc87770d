#!/usr/bin/python3
"""Adds up the JUnit XML files of every suite and prints the closing line 'N passed, N failed'.
Exits 1 when anything failed or when no test ran at all."""
import pathlib
import sys
import xml.etree.ElementTree as ET

results = pathlib.Path(sys.argv[1])
passed = failed = skipped = 0
failures = []
for xml in sorted(results.glob("*.xml")):
    try:
        tree = ET.parse(xml)
    except ET.ParseError as e:
        failed += 1
        failures.append(f"{xml.name}: unreadable results ({e})")
        continue
    for case in tree.iter("testcase"):
        name = f"{xml.stem}: {case.get('classname', '')}.{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None:
            # A skipped case is not a pass: report it as a failure so nothing hides behind it.
            failed += 1
            failures.append(name + " (skipped)")
        else:
            passed += 1
for f in failures:
    print("FAILED", f)
if passed + failed == 0:
    print("no test ran")
    failed = 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
