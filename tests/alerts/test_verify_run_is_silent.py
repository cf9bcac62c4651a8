"""A full verify run (`pytest -m "contract or integration" --api-url ...`) against a deployment that real
Prometheus watches with the catalogue's rules fires nothing: its requests are marked synthetic and the ratio and
latency rules leave them out. The same traffic counted as real use would have crossed ApiClientErrorRatioHigh,
so the silence is the label's doing, not a quiet run's.
"""

import math
import time
from pathlib import Path

import pytest

from harness.alerting.prometheus_stack import PrometheusStack
from harness.alerting.verification import AlertsDuringVerification, wait_until_quiet
from harness.alerting.webhook_receiver import WebhookReceiver
from harness.pytest_plugin.deployment import HarnessOptions
from harness.verify_run import run_verify
from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.monitoring.prometheus_rules import go_duration, signal_expression

pytestmark = pytest.mark.alerts

QUIET_WITHIN_S = 30.0


def test_a_full_verify_run_fires_no_alert(
    monitored_deployment: tuple[Deployment, PrometheusStack],
    alert_receiver: WebhookReceiver,
    project_config: ProjectConfig,
    harness_options: HarnessOptions,
    sweeps_dead_sessions: None,
    tmp_path: Path,
) -> None:
    """With the deployment to itself (no other test's traffic in the window), as the proof is about this run's.

    On process and local, where the proof is asked for. In the prod rehearsal the replicas share two cores with the
    ARM emulator and the emulator's own suite, so a verify run's fits are real CPU load there, and the CPU rule
    (a resource rule, which no request label can or should take out) rightly counts them."""
    if harness_options.environment not in ("process", "local"):
        pytest.skip("the silence proof runs on process and local: in the prod rehearsal the CPU rule counts real load")
    (deployment, stack), rules = monitored_deployment, project_config.monitoring.alerts
    live_url = deployment.url
    for rule in rules:
        wait_until_quiet(stack, rule.name, QUIET_WITHIN_S)
    started, started_monotonic = time.time(), time.monotonic()

    result = run_verify(live_url, harness_options.api_key, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"garch-mlops: verified {live_url}" in result.stdout
    finished = time.time()
    stack.wait_until_scraped(live_url, after=finished)  # the run's last requests are in, every rule saw them
    ended = time.time()

    alerts = stack.query_range("ALERTS", start=started, end=ended, step_s=stack.cadence.check_interval_s)
    names = sorted({f"{series['metric']['alertname']} ({series['metric']['alertstate']})" for series in alerts})
    notified = [n for n in alert_receiver.notifications() if n.received_at > started_monotonic]
    if names or notified:
        raise AlertsDuringVerification(names, len(notified))

    # The proof could fail: counted as real use, the same requests cross the client error ratio's threshold.
    rule = next(rule for rule in rules if rule.signal == "client_error_ratio")
    window = go_duration(stack.cadence.window_s(rule))
    as_if_real = signal_expression(rule, stack.limits, window, with_synthetic=True)
    series = stack.query_range(as_if_real, start=started, end=ended, step_s=stack.cadence.check_interval_s)
    # A step whose window held no request at all is 0/0 (NaN in PromQL): no ratio there, so not a peak.
    ratios = [float(value) for s in series for _, value in s["values"]]
    peak = max((ratio for ratio in ratios if not math.isnan(ratio)), default=0.0)
    assert peak > rule.threshold.value, f"{rule.name} would have measured at most {peak:.0f}% unlabelled"
    print(f"\nverify run: {finished - started:.1f}s; unlabelled, {rule.name} would have measured {peak:.0f}%")
