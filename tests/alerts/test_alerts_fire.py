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
    AlertFiredTooSoon,
    AlertVerificationFailure,
    assert_alertmanager_loaded,
    assert_measured_over_threshold,
    assert_rules_loaded,
    notification_bound_s,
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
"""ApiUnhealthy: three failed checks a second apart, an evaluation and a notification take about 4 s."""
RESOLVE_WITHIN_S = 15.0
SLACK_S = 5.0
"""Added to a bound derived from the compressed cadence: Prometheus and the service share 2 busy cores."""
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

    earliest = stack.cadence.pending_s(rule)
    if fired < earliest:
        raise AlertFiredTooSoon(rule.name, fired, earliest)
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
    """4 of 5 requests invalid until the alert fires, then only valid ones until it resolves.

    Either may take a whole window of the rule (earlier good traffic dilutes the ratio, earlier bad traffic keeps it
    up), so the bounds are a window and an evaluation on the compressed clock, plus slack.
    """
    deployment, stack = monitored_deployment
    rule = rule_named(project_config, "ApiClientErrorRatioHigh")
    bound = notification_bound_s(stack.cadence, rule, SLACK_S)
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
            timeout_s=bound,
            while_waiting=bad_traffic,
        )
        fixed_at, fixed_at_epoch = time.monotonic(), time.time()
        resolved = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="resolved",
            since=fixed_at,
            timeout_s=bound,
            while_waiting=good_traffic,
        )

    notification = alert_receiver.first(rule.name, "firing", after=faulted_at)
    assert notification is not None
    alert = notification.alerts(rule.name, "firing")[0]
    assert float(alert["annotations"]["measured"]) > rule.threshold.value
    peak = assert_measured_over_threshold(stack, rule, alert, until=fixed_at_epoch)
    alert_report.record(
        AlertTiming(rule.name, f"4 of 5 requests invalid (peak {peak:.0f}%), then all valid", fired, resolved, bound)
    )


def p95(latencies: list[float]) -> float:
    """Nearest-rank 95th percentile: more than 5% of the values are at or above it, as with the rule's quantile."""
    ordered = sorted(latencies)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


class FitClients:
    """Clients that post expensive fits back to back, each `fits` times or until stopped; keep every latency.

    Each request opens its own connection, so it goes to whichever worker accepts it: with kept-alive connections a
    client would stay on one worker and the load would be as uneven as the connections happened to land.
    """

    def __init__(self, url: str, headers: dict[str, str], clients: int, fits: int | None = None) -> None:
        self._url, self._headers, self._fits = url, headers, fits
        self.clients = clients
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        self.latencies_s: list[float] = []
        self.errors: list[str] = []

    def _client(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self._url, headers=self._headers, timeout=120, limits=limits) as client:
            for sent in itertools.count(1):  # at least one fit each, even if stopped at once
                started = time.monotonic()
                response = client.post("/predict/custom", json=expensive_fit())
                self.latencies_s.append(time.monotonic() - started)
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")
                if self._stop.is_set() or sent == self._fits:
                    return

    def check(self) -> None:
        """Between polls: every expensive fit so far was answered 200, or the fault is not the one we mean."""
        assert not self.errors, f"expensive fits failed: {self.errors[:3]}"

    def throughput(self) -> float:
        """Fits answered per second: by Little's law, clients always waiting on an answer over the mean latency."""
        return self.clients / statistics.mean(self.latencies_s)

    def run(self) -> "FitClients":
        """With `fits` set: start every client and wait until each has had its answers."""
        assert self._fits is not None, "clients without a number of fits run until stopped: use them in a with block"
        for thread in self._threads:
            thread.start()
        for thread in self._threads:
            thread.join(timeout=120 * self._fits)
        return self

    def __enter__(self) -> "FitClients":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop sending and wait for the answers in flight: only then is the load over."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)


class OverloadNotOverThreshold(AlertVerificationFailure):
    """The clients did not see the latency the alert is about: the overload was not one."""

    def __init__(self, p95_ms: float, threshold_ms: float, clients: int, fits_per_s: float) -> None:
        self.p95_ms, self.threshold_ms, self.clients, self.fits_per_s = p95_ms, threshold_ms, clients, fits_per_s
        super().__init__(
            f"p95 of the overload's answers was {p95_ms:.0f} ms, not over {threshold_ms:.0f} ms "
            f"({clients} clients sized for {fits_per_s:.2f} fits/s)"
        )


CALIBRATION_FITS = 3
"""Fits one client sends back to back to measure one worker's throughput. One client, because two would sometimes
share a worker and wait on each other; the workers' throughput is taken as one worker's times their number, the most
they can do (less where they share a core), so the overload is sized up, never down."""
OVERLOAD_FACTOR = 2.5
"""Clients for this many thresholds' worth of fits in flight: by Little's law each answer then takes about 2.5 times
the threshold, so the p95 stays over it even if the machine gets 2.5 times faster after the calibration."""
MAX_CLIENTS = 32
OVERLOAD_WITHIN_S = 30.0
"""From the start of the overload: a latency is observed when its answer is sent, so firing takes the threshold
itself, then enough slow answers in the rule's window, an evaluation and a notification."""


def overload_for(url: str, headers: dict[str, str], threshold_s: float, workers: int) -> tuple[int, float]:
    """How many clients overload the deployment: from the throughput one client measures over CALIBRATION_FITS
    (times the workers, the most they could serve), enough that answers queue past the threshold."""
    calibration = FitClients(url, headers, clients=1, fits=CALIBRATION_FITS).run()
    calibration.check()
    fits_per_s = workers * calibration.throughput()
    return min(MAX_CLIENTS, max(workers, math.ceil(OVERLOAD_FACTOR * threshold_s * fits_per_s))), fits_per_s


def resolved_by_normal_traffic(
    url: str, headers: dict[str, str], stack: PrometheusStack, receiver: WebhookReceiver, rule: AlertRule
) -> float:
    """Seconds until the resolved notification arrives while cheap requests flow."""
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        return wait_for_notification(
            receiver,
            stack,
            rule=rule.name,
            status="resolved",
            since=time.monotonic(),
            timeout_s=notification_bound_s(stack.cadence, rule, SLACK_S),
            while_waiting=sender(client, [CHEAP_FIT, GOOD_REQUEST] * 5),
        )


def test_expensive_fits_fire_latency_and_normal_traffic_resolves_it(
    monitored_deployment: tuple[Deployment, PrometheusStack],
    alert_receiver: WebhookReceiver,
    alert_report: AlertReport,
    project_config: ProjectConfig,
    harness_options: HarnessOptions,
) -> None:
    """Valid but expensive fits, enough clients that answers take longer than the threshold; then normal traffic.

    The overload is sized from the throughput measured over a short calibration burst (CALIBRATION_FITS). The
    proof is what the rule measures: the p95 over the rule's window, read from the Prometheus that evaluated it, over
    the threshold while the alert fired; and the clients' own p95 over it too. Calibration fits count: where one
    fit alone takes longer than the threshold, they fire the alert themselves, which is the same fault.

    The fits also drive the CPU towards its limit, but how far depends on what else the machine runs, so ApiCpuHigh
    is verified by evaluation in test_rule_files.py rather than here.
    """
    deployment, stack = monitored_deployment
    if deployment.environment not in LOOPBACK_ENVIRONMENTS:
        pytest.skip(f"load faults target loopback deployments only, not {deployment.environment}")
    rule = rule_named(project_config, "ApiLatencyP95High")
    threshold_s = rule.threshold.value / 1000
    headers = {"X-API-Key": harness_options.api_key} if harness_options.api_key else {}
    wait_until_quiet(stack, rule.name, QUIET_WITHIN_S)

    calibrated_from = time.monotonic()
    clients, fits_per_s = overload_for(deployment.url, headers, threshold_s, project_config.deployment.web_concurrency)

    overloaded_at = time.monotonic()
    with FitClients(deployment.url, headers, clients) as overload:
        fired = wait_for_notification(
            alert_receiver,
            stack,
            rule=rule.name,
            status="firing",
            since=calibrated_from,
            timeout_s=overloaded_at - calibrated_from + OVERLOAD_WITHIN_S,
            while_waiting=overload.check,
        )
    overload.check()
    drained_at = time.time()
    notification = alert_receiver.first(rule.name, "firing", after=calibrated_from)
    assert notification is not None
    alert = notification.alerts(rule.name, "firing")[0]
    assert alert["labels"]["route"] == "/predict/custom", alert["labels"]
    peak_ms = assert_measured_over_threshold(stack, rule, alert, until=drained_at)
    clients_p95_ms = 1000 * p95(overload.latencies_s)
    if clients_p95_ms <= rule.threshold.value:
        raise OverloadNotOverThreshold(clients_p95_ms, rule.threshold.value, clients, fits_per_s)

    resolved = resolved_by_normal_traffic(deployment.url, headers, stack, alert_receiver, rule)
    fault = (
        f"{clients} clients (for {fits_per_s:.2f} fits/s measured) posting EGARCH(3,3,3) fits of 20000 returns: "
        f"p95 {clients_p95_ms:.0f} ms at the clients, up to {peak_ms:.0f} ms in Prometheus; then normal traffic"
    )
    alert_report.record(AlertTiming(rule.name, fault, fired, resolved, OVERLOAD_WITHIN_S))
