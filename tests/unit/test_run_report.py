"""The run report reads JUnit XML and the load summary into the lines `make run` prints."""

import json
from pathlib import Path

from provisioning.reporting import count_suites, render, suite_of

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.contract.test_live_contract" name="a"/>
  <testcase classname="tests.integration.test_workflows" name="b"/>
  <testcase classname="tests.integration.test_workflows" name="c"><failure message="boom"/></testcase>
  <testcase classname="tests.load.test_load" name="d"><skipped message="no"/></testcase>
  <testcase classname="tests.deploy.test_lifecycle" name="e"><error message="setup"/></testcase>
</testsuite></testsuites>
"""


def test_suites_are_named_by_their_folder() -> None:
    assert suite_of("tests.contract.test_live_contract") == "contract"
    assert suite_of("tests.unit.test_x") == "other" and suite_of("conftest") == "other"


def test_counts_pass_fail_error_and_skip_per_suite(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    counts = count_suites(junit)
    assert counts.passed == {"contract": 1, "integration": 1}
    assert counts.failed == {"integration": 1, "deploy": 1}
    assert counts.skipped == {"load": 1} and counts.total_failed == 2


def test_render_names_the_deployment_the_load_and_the_verdict(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    (tmp_path / "deployment.json").write_text(json.dumps({"environment": "local", "url": "http://x", "version": "v"}))
    total = {"requests": 900, "rps": 15.0, "failures": 0, "p50_ms": 5, "p95_ms": 40, "p99_ms": 90}
    (tmp_path / "load.json").write_text(json.dumps({"users": 10, "duration_s": 60, "total": total}))
    text = render(junit, tmp_path / "load.json", tmp_path / "deployment.json")
    assert "deployment: local at http://x running v" in text
    assert "integration     1 passed    1 failed" in text
    assert "900 requests, 15.0 req/s, 0 failures, p50 5 ms, p95 40 ms, p99 90 ms" in text
    assert text.endswith("result: FAILED (2 tests)")
