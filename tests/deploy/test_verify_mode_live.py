"""A verify run against the session's deployment, as someone who does not own it runs one: it says what it
verified (header, summary line, reports/deployment.json), skips what needs the deployment to itself with the
reason, and every request it sends is counted as synthetic, so real traffic's series do not move at all."""

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.prometheus_text import synthetic_requests
from harness.pytest_plugin.deployment import EXCLUSIVE_SKIP, HarnessOptions
from harness.synthetic_traffic import verification_headers
from harness.verify_run import run_verify
from provisioning.environments.base import Deployment

pytestmark = pytest.mark.usefixtures("sweeps_dead_sessions")
PREFLIGHT_REQUESTS = 2
"""/health and /models/list, before the run's own count starts."""
ONE_INSTANCE = ("process", "local")
PLATFORM_ROUTES = ("/health", "/metrics")
"""Where one /metrics page counts every request (elsewhere replicas count their own)."""


def real_requests(text: str) -> dict[str, float]:
    """Requests counted without the synthetic label, by route; /health and /metrics are left out: the platform's
    own health checks (Docker's HEALTHCHECK) and scrapes keep coming while the run goes on."""
    counted: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            labels = found.labels
            if found.name != "garch_http_requests_total" or labels.get("traffic") == "synthetic":
                continue
            if labels["route"] not in PLATFORM_ROUTES:
                counted[labels["route"]] = counted.get(labels["route"], 0.0) + found.value
    return counted


def test_a_verify_run_says_what_it_verified_and_marks_every_request(
    deployment_control: Deployment, harness_options: HarnessOptions, tmp_path: Path
) -> None:
    """Holds the deployment alone (deployment_control), so the counters move by this run's requests only."""
    url = deployment_control.url
    with httpx.Client(base_url=url, headers=verification_headers(harness_options.api_key), timeout=30) as client:
        health = client.get("/health").json()
        before = client.get("/metrics").text
        result = run_verify(url, harness_options.api_key, tmp_path, selection="integration")
        after = client.get("/metrics").text
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]

    models = [{"name": m["name"], "version": m.get("version"), "digest": m.get("digest")} for m in health["models"]]
    described = ", ".join(f"{m['name']} {m['version']}" if m["version"] else f"{m['name']} (built-in)" for m in models)
    description = f"{url} (version {health['version']}; models: {described})"
    assert f"garch-mlops: verifying {description}" in output
    (summary,) = [line for line in output.splitlines() if line.startswith("garch-mlops: verified ")]
    assert summary.startswith(f"garch-mlops: verified {description}; ")
    assert summary.endswith("; nothing was deployed, restarted or torn down")
    record = json.loads((tmp_path / "reports" / "deployment.json").read_text())
    assert record == {"environment": "external", "url": url, "version": health["version"], "models": models}
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED") and EXCLUSIVE_SKIP in line]
    exclusive = {line.split()[2].split(":")[0] for line in skipped}
    assert exclusive == {"tests/integration/test_operations_live.py", "tests/integration/test_request_limits_live.py"}

    if deployment_control.environment not in ONE_INSTANCE:
        return
    assert real_requests(after) == real_requests(before), "a request of the verify run was not marked synthetic"
    sent = synthetic_requests(after)[0] - synthetic_requests(before)[0] - PREFLIGHT_REQUESTS
    assert f"; {sent:.0f} requests marked synthetic, " in summary
