"""The short report `mlops-deploy --action full` prints: suites passed, load figures, where it ran."""

import json
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SUITES = ("contract", "integration", "load", "alerts", "deploy", "benchmark")


@dataclass
class SuiteCounts:
    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())


def suite_of(classname: str) -> str:
    """`tests.contract.test_live_contract` -> `contract`; anything outside a suite folder -> `other`."""
    parts = classname.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tests" and parts[1] in SUITES else "other"


def count_suites(junit_xml: Path) -> SuiteCounts:
    counts = SuiteCounts()
    for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        suite = suite_of(case.get("classname", ""))
        if case.find("failure") is not None or case.find("error") is not None:
            counts.failed[suite] += 1
        elif case.find("skipped") is not None:
            counts.skipped[suite] += 1
        else:
            counts.passed[suite] += 1
    return counts


def render(junit_xml: Path, load_json: Path, deployment_json: Path) -> str:
    """A few lines a person reads at the end of `make run`."""
    lines = []
    if deployment_json.exists():
        deployment = json.loads(deployment_json.read_text())
        lines.append(f"deployment: {deployment['environment']} at {deployment['url']} running {deployment['version']}")
    counts = count_suites(junit_xml)
    for suite in sorted(set(counts.passed) | set(counts.failed) | set(counts.skipped)):
        lines.append(
            f"  {suite:<12} {counts.passed[suite]:>4} passed  {counts.failed[suite]:>3} failed  "
            f"{counts.skipped[suite]:>3} skipped"
        )
    if load_json.exists():
        load = json.loads(load_json.read_text())
        total = load["total"]
        lines.append(
            f"load: {load['users']} users for {load['duration_s']:.0f}s: {total['requests']} requests, "
            f"{total['rps']:.1f} req/s, {total['failures']} failures, "
            f"p50 {total['p50_ms']:.0f} ms, p95 {total['p95_ms']:.0f} ms, p99 {total['p99_ms']:.0f} ms"
        )
    lines.append("result: " + ("PASSED" if counts.total_failed == 0 else f"FAILED ({counts.total_failed} tests)"))
    return "\n".join(lines)
