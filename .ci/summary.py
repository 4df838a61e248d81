"""Add up every step of a CI run into one line: `total: N passed, M failed`.

Reads the run's results folder: JUnit XML reports (pytest, Schemathesis), `*.counts` files
(`passed failed` for steps that count their own checks, such as the cluster test), and `steps`
(one `name exit-status` line per step). A step that exited non-zero but whose reports show no
failure (it crashed, or it is not a test runner, like lint) counts as one failed check, so a
failed step can never add up to a green line; a step without reports that succeeded counts as
one passed check."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def junit_counts(path: Path) -> tuple[int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    passed = failed = 0
    for suite in suites:
        tests = int(suite.get("tests", 0))
        broken = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        passed += tests - broken - skipped
        failed += broken
    return passed, failed


def main(results: Path) -> int:
    passed = failed = 0
    for line in (results / "steps").read_text().splitlines():
        name, status = line.rsplit(" ", 1)
        step_passed = step_failed = 0
        reports = sorted(results.glob(f"{name}*.xml")) + sorted(results.glob(f"{name}*/*.xml"))
        for report in reports:
            try:
                counted = junit_counts(report)
            except ET.ParseError:
                counted = (0, 1)  # a report cut off by a crash
            step_passed += counted[0]
            step_failed += counted[1]
        for counts in sorted(results.glob(f"{name}*.counts")):
            try:
                good, bad = (int(value) for value in counts.read_text().split())
            except ValueError:
                good, bad = 0, 1  # a counts file cut off by a crash
            step_passed += good
            step_failed += bad
        if status != "0" and step_failed == 0:
            step_failed = 1
        if status == "0" and step_passed + step_failed == 0:
            step_passed = 1
        print(f"   {name}: {step_passed} passed, {step_failed} failed (exit {status})")
        passed += step_passed
        failed += step_failed
    print(f"total: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
