"""Alerts verified by their effects: real faults on the live deployment reach the webhook, and clear again.

Prometheus scrapes the deployment and evaluates the catalogue on a compressed clock
(harness/pytest_plugin/monitoring.py); nothing here pushes a metric or reads a configuration back in place of
the real thing.
"""

import itertools
import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from types import TracebackType

import httpx
import pytest

from harness.alerting.prometheus_stack import PrometheusStack
from harness.alerting.verification import (
    assert_alertmanager_loaded,
    assert_rules_loaded,
    wait_for_notification,
    wait_until_quiet,
)
from harness.alerting.webhook_receiver import WebhookReceiver
from harness.pytest_plugin.deployment import HarnessOptions
from harness.pytest_plugin.monitoring import AlertReport, AlertTiming
from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.monitoring.catalogue import AlertRule

pytestmark = pytest.mark.alerts

FIRE_WITHIN_S = 15.0
RESOLVE_WITHIN_S = 15.0
QUIET_WITHIN_S = 30.0
"""Before a fault, an alert left over from earlier traffic must clear: at most a scaled window and a bit."""

Request = tuple[str, str, dict[str, object], int]
"""method, path, httpx options, and the status the API must answer (so the fault is the one we mean)."""

BAD_REQUESTS: list[Request] = [
    ("GET", "/predict", {"params": {"horizon": 999}}, 400),
    ("GET", "/predict", {"params": {"model": "no_such_model"}}, 400),
    ("POST", "/predict/custom", {"content": b"1,2,3", "headers": {"Content-Type": "text/csv"}}, 415),
    ("POST", "/predict/custom", {"json": {"returns": [0.5, -0.2]}}, 400),
]
GOOD_REQUEST: Request = ("GET", "/predict", {"params": {"horizon": 1}}, 200)

_rng = random.Random(20181231)
RETURNS = [round(_rng.gauss(0, 1.2), 4) for _ in range(20_000)]
_distinct = itertools.count()


def expensive_fit() -> dict[str, object]:
    """Valid, and the most work one request may ask for: the largest series, EGARCH(3,3,3), simulated forecasts.

    Every body differs in its last return, so no cache can answer one from another.
    """
    returns = [*RETURNS[:-1], round(RETURNS[-1] + next(_distinct) * 1e-4, 4)]
    return {"returns": returns, "vol": "EGARCH", "p": 3, "o": 3, "q": 3, "dist": "skewt", "horizon": 252}


CHEAP_FIT: Request = ("POST", "/predict/custom", {"json": {"returns": RETURNS[:200]}}, 200)
LOOPBACK_ENVIRONMENTS = ("process", "local")
MAX_CLIENTS_PER_WORKER = 4
OVERLOAD_WITHIN_S = 30.0
"""Fits take seconds each and a latency is observed when its answer is sent, so firing takes longer."""


def rule_named(config: ProjectConfig, name: str) -> AlertRule:
    return next(rule for rule in config.monitoring.alerts if rule.name == name)


def sender(client: httpx.Client, requests: list[Request]) -> Callable[[], None]:
    """Sends `requests` once per call, each checked against the status it must get."""

    def send() -> None:
        for method, path, options, status in requests:
            response = client.request(method, path, **options)  # type: ignore[arg-type]
            assert response.status_code == status, (method, path, response.status_code, response.text[:200])

    return send


def test_prometheus_evaluates_exactly_the_catalogue(
    scraped_deployment: PrometheusStack, project_config: ProjectConfig
) -> None:
    loaded = assert_rules_loaded(scraped_deployment)
    assert sorted(loaded) == sorted(rule.name for rule in project_config.monitoring.alerts)
    unhealthy = {
        group["name"]: [(r["name"], r["health"], r.get("lastError", "")) for r in group["rules"] if r["health"] != "ok"]
        for group in scraped_deployment.loaded_rules()
    }
    assert not any(unhealthy.values()), f"rules that fail to evaluate: {unhealthy}"
    assert_alertmanager_loaded(scraped_deployment)


def test_stopped_deployment_fires_unhealthy_and_started_deployment_resolves_it(
    monitored_deployment: tuple[Deployment, PrometheusStack],
    alert_receiver: WebhookReceiver,
    alert_report: AlertReport,
    project_config: ProjectConfig,
) -> None:
    deployment, stack = monitored_deployment
    rule = rule_named(project_config, "ApiUnhealthy")
    wait_until_quiet(stack, rule.name, QUIET_WITHIN_S)

    stopped_at = time.monotonic()
    deployment.stop()
    fired = wait_for_notification(
        alert_receiver, stack, rule=rule.name, status="firing", since=stopped_at, timeout_s=FIRE_WITHIN_S
    )
    started_at = time.monotonic()
    deployment.start()
    start_took = time.monotonic() - started_at
    # Measured from the start call; bounded once the service is healthy again (booting has its own bound,
    # testing.restart_ready_within_s, checked by tests/deploy/test_lifecycle.py).
    resolved = wait_for_notification(
        alert_receiver,
        stack,
        rule=rule.name,
        status="resolved",
        since=started_at,
        timeout_s=start_took + RESOLVE_WITHIN_S,
    )

    notification = alert_receiver.first(rule.name, "firing", after=stopped_at)
    assert notification is not None
    alert = notification.alerts(rule.name, "firing")[0]
    assert alert["labels"]["instance"] == deployment.url.split("://", 1)[1]
    assert alert["labels"]["severity"] == rule.severity_name
    assert alert["annotations"]["summary"] == rule.description
    alert_report.record(
        AlertTiming(rule.name, "deployment stopped, then started", fired, resolved, FIRE_WITHIN_S, start_took)
    )


def test_bad_requests_fire_client_error_ratio_and_good_requests_resolve_it(
    monitored_deployment: tuple[Deployment, PrometheusStack],
    alert_receiver: WebhookReceiver,
    alert_report: AlertReport,
    project_config: ProjectConfig,
    harness_options: HarnessOptions,
) -> None:
    deployment, stack = monitored_deployment
    rule = rule_named(project_config, "ApiClientErrorRatioHigh")
    headers = {"X-API-Key": harness_options.api_key} if harness_options.api_key else {}
    with httpx.Client(base_url=deployment.url, headers=headers, timeout=10) as client:
        wait_until_quiet(stack, rule.name, QUIET_WITHIN_S)
        bad_traffic = sender(client, [*BAD_REQUESTS, GOOD_REQUEST])
        good_traffic = sender(client, [GOOD_REQUEST] * 5)

        faulted_at = time.monotonic()
        fired = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="firing",
            since=faulted_at,
            timeout_s=FIRE_WITHIN_S,
            while_waiting=bad_traffic,
        )
        fixed_at = time.monotonic()
        resolved = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="resolved",
            since=fixed_at,
            timeout_s=RESOLVE_WITHIN_S,
            while_waiting=good_traffic,
        )

    notification = alert_receiver.first(rule.name, "firing", after=faulted_at)
    assert notification is not None
    measured_percent = float(notification.alerts(rule.name, "firing")[0]["annotations"]["measured"])
    assert measured_percent > rule.threshold.value
    alert_report.record(
        AlertTiming(rule.name, "4 of 5 requests invalid, then all valid", fired, resolved, FIRE_WITHIN_S)
    )


class Overload:
    """Clients that post expensive fits back to back until stopped; keeps every answer's latency."""

    def __init__(self, url: str, headers: dict[str, str], clients: int) -> None:
        self._url, self._headers = url, headers
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        self.latencies_s: list[float] = []
        self.errors: list[str] = []

    def _client(self) -> None:
        with httpx.Client(base_url=self._url, headers=self._headers, timeout=120) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                response = client.post("/predict/custom", json=expensive_fit())
                self.latencies_s.append(time.monotonic() - started)
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")

    def check(self) -> None:
        """Between polls: every expensive fit so far was answered 200, or the fault is not the one we mean."""
        assert not self.errors, f"expensive fits failed: {self.errors[:3]}"

    def __enter__(self) -> "Overload":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop sending and wait for the answers in flight: only then is the overload over."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


def test_expensive_fits_fire_latency_and_normal_traffic_resolves_it(
    monitored_deployment: tuple[Deployment, PrometheusStack],
    alert_receiver: WebhookReceiver,
    alert_report: AlertReport,
    project_config: ProjectConfig,
    harness_options: HarnessOptions,
) -> None:
    """Valid but expensive fits, enough of them that answers take longer than the threshold; then normal traffic.

    They also drive the CPU towards its limit, but how far depends on what else the machine runs, so ApiCpuHigh is
    verified by evaluation in test_rule_files.py rather than here.
    """
    deployment, stack = monitored_deployment
    if deployment.environment not in LOOPBACK_ENVIRONMENTS:
        pytest.skip(f"load faults target loopback deployments only, not {deployment.environment}")
    rule = rule_named(project_config, "ApiLatencyP95High")
    headers = {"X-API-Key": harness_options.api_key} if harness_options.api_key else {}
    wait_until_quiet(stack, rule.name, QUIET_WITHIN_S)

    overloaded_at = time.monotonic()
    with httpx.Client(base_url=deployment.url, headers=headers, timeout=120) as client:
        assert client.post("/predict/custom", json=expensive_fit()).status_code == 200
    one_fit_s = time.monotonic() - overloaded_at
    per_worker = min(MAX_CLIENTS_PER_WORKER, math.ceil(1.2 * rule.threshold.value / 1000 / one_fit_s))
    clients = per_worker * project_config.deployment.web_concurrency
    with Overload(deployment.url, headers, clients) as overload:
        fired = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="firing",
            since=overloaded_at,
            timeout_s=OVERLOAD_WITHIN_S,
            while_waiting=overload.check,
        )
    overload.check()
    slow_ms = 1000 * statistics.median(overload.latencies_s)
    assert slow_ms > rule.threshold.value, f"median fit took {slow_ms:.0f} ms: the overload was not one"

    with httpx.Client(base_url=deployment.url, headers=headers, timeout=10) as client:
        calm_at = time.monotonic()
        resolved = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="resolved",
            since=calm_at,
            timeout_s=RESOLVE_WITHIN_S + stack.cadence.window_s(rule),
            while_waiting=sender(client, [CHEAP_FIT, GOOD_REQUEST] * 5),
        )
    notification = alert_receiver.first(rule.name, "firing", after=overloaded_at)
    assert notification is not None
    alert = notification.alerts(rule.name, "firing")[0]
    assert (
        alert["labels"]["route"] == "/predict/custom" and float(alert["annotations"]["measured"]) > rule.threshold.value
    )
    fault = f"{clients} clients posting EGARCH(3,3,3) fits of 20000 returns (median {slow_ms:.0f} ms), then normal"
    alert_report.record(AlertTiming(rule.name, fault, fired, resolved, OVERLOAD_WITHIN_S))
