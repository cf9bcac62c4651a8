"""Load against the live deployment with locust (in a subprocess), gated on the configured SLOs."""

import pytest

from harness.load.gate import LoadRun, SloViolations, evaluate, run_locust
from harness.pytest_plugin.deployment import HarnessOptions, skip_unless_ours
from harness.pytest_plugin.reports import reports_dir
from provisioning.config import ProjectConfig

pytestmark = pytest.mark.load


def test_slos_hold_under_load(
    live_url: str, project_config: ProjectConfig, harness_options: HarnessOptions, pytestconfig: pytest.Config
) -> None:
    skip_unless_ours(harness_options)
    load = project_config.testing.load
    duration = pytestconfig.getoption("--load-duration") or load.duration_s
    reports = reports_dir(pytestconfig)
    workers = pytestconfig.getoption("--load-workers") or load.workers
    report = run_locust(
        live_url, load, duration_s=duration, reports=reports, api_key=harness_options.api_key,
        run=LoadRun(workers=workers),
    )  # fmt: skip
    print(
        f"\nload ({workers} locust worker{'s' if workers > 1 else ''}): {report.total.requests} requests, "
        f"{report.total.rps:.1f} req/s, "
        f"{report.total.failures} failures, p95 {report.total.p95_ms:.0f} ms ({report.html})"
    )
    assert report.total.requests > 0
    violations = evaluate(report, load)
    if violations:
        raise SloViolations(violations)
