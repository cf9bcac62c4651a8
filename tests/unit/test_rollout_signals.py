"""How a rollout step is judged, offline: the revision's answers read from a real Prometheus exposition of the
service's own metrics (the same names, labels and buckets), the window between two scrapes, p95 as Prometheus'
histogram_quantile computes it, the catalogue's thresholds, and the rollout settings a config may hold."""

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from provisioning.config import ConfigError, ProjectConfig, RolloutSection, load_config
from provisioning.environments.azure.container_apps.canary_signals import Counts, SignalLimits
from provisioning.environments.azure.container_apps.candidate import CandidateAddress
from service.metrics import LATENCY_BUCKETS

pytestmark = pytest.mark.unit


class Revision:
    """A registry holding the service's request counter and latency histogram, as one replica exposes them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["route", "method", "status"]
        self.requests = Counter("garch_http_requests_total", "answers", labels, registry=self.registry)
        self.latency = Histogram(
            "garch_http_request_duration_seconds", "latency", ["route"], buckets=LATENCY_BUCKETS, registry=self.registry
        )

    def answer(self, route: str, status: int, seconds: float, times: int = 1) -> None:
        for _ in range(times):
            self.requests.labels(route=route, method="GET", status=str(status)).inc()
            self.latency.labels(route=route).observe(seconds)

    def scrape(self) -> Counts:
        return Counts.parse(generate_latest(self.registry).decode())


LIMITS = SignalLimits.from_catalogue(ProjectConfig().monitoring.alerts)


def test_a_window_counts_only_what_was_answered_between_two_scrapes_and_not_the_scrapes() -> None:
    revision = Revision()
    revision.answer("/predict", 200, 0.01, times=50)
    start = revision.scrape()
    revision.answer("/predict", 200, 0.01, times=30)
    revision.answer("/predict", 500, 0.01, times=2)
    revision.answer("/metrics", 200, 0.01, times=7)

    window = revision.scrape().since(start)

    assert window is not None and (window.total, window.server_errors) == (32, 2)


def test_a_counter_that_went_down_is_another_replica_or_a_restart_and_starts_a_new_window() -> None:
    busy, fresh = Revision(), Revision()
    busy.answer("/health", 200, 0.01, times=10)
    fresh.answer("/health", 200, 0.01, times=3)
    assert fresh.scrape().since(busy.scrape()) is None


def test_p95_is_interpolated_within_its_bucket_as_histogram_quantile_does() -> None:
    revision = Revision()
    start = revision.scrape()
    revision.answer("/predict", 200, 0.02, times=90)  # bucket (0.01, 0.025]
    revision.answer("/predict", 200, 4.0, times=10)  # bucket (2.5, 5.0]

    window = revision.scrape().since(start)

    assert window is not None
    # rank 95 of 100: the 5th of the 10 answers in (2.5, 5.0], so 2.5 + 2.5 * 5/10
    assert window.quantile_s(0.95) == pytest.approx(3.75)
    assert window.quantile_s(0.5) == pytest.approx(0.01 + 0.015 * 50 / 90)


@pytest.mark.parametrize(
    ("answers", "breached"),
    [
        pytest.param([(200, 0.01, 95), (500, 0.01, 5)], None, id="5%-is-not-over-5%"),
        pytest.param([(200, 0.01, 94), (500, 0.01, 6)], "ApiServerErrorRatioHigh", id="6%-5xx"),
        pytest.param([(200, 0.01, 90), (200, 4.0, 10)], "ApiLatencyP95High", id="p95-3.75s"),
        pytest.param([(500, 0.01, 4)], None, id="too-few-to-judge"),
    ],
)
def test_a_step_breaches_the_catalogue_threshold_its_alert_rule_would(
    answers: list[tuple[int, float, int]], breached: str | None
) -> None:
    revision = Revision()
    start = revision.scrape()
    for status, seconds, times in answers:
        revision.answer("/predict", status, seconds, times)
    window = revision.scrape().since(start)
    assert window is not None

    breach = LIMITS.breach(window, min_requests=5)

    assert (breach[0] if breach else None) == breached


def test_the_breach_says_what_was_seen_against_which_threshold() -> None:
    revision = Revision()
    start = revision.scrape()
    revision.answer("/predict", 200, 0.01, times=8)
    revision.answer("/predict", 500, 0.01, times=2)
    window = revision.scrape().since(start)
    assert window is not None

    assert LIMITS.breach(window, 5) == (
        "ApiServerErrorRatioHigh",
        "2 of 10 answers were 5xx (20.0% GreaterThan 5%)",
    )


def test_a_label_is_its_own_host_on_azure_and_a_host_header_on_the_emulators_plain_http_ingress() -> None:
    domain = "env-1.westeurope.azurecontainerapps.io"

    def address(scheme: str) -> CandidateAddress:
        return CandidateAddress.of_label(
            scheme=scheme, app="garch-api", app_fqdn="127.0.0.5:8001", label="canary", default_domain=domain,
            api_key=None,
        )  # fmt: skip

    azure, local = address("https"), address("http")

    assert (azure.url, azure.host) == (f"https://garch-api---canary.{domain}", None)
    assert (local.url, local.host) == ("http://127.0.0.5:8001", f"garch-api---canary.{domain}")


@pytest.mark.parametrize(
    "steps",
    [pytest.param([10, 50], id="not-ending-at-100"), pytest.param([50, 10, 100], id="falling"),
     pytest.param([0, 100], id="a-0%-step"), pytest.param([10, 10, 100], id="repeated")],
)  # fmt: skip
def test_rollout_steps_must_rise_to_100_and_a_config_that_does_not_is_refused_in_one_line(
    steps: list[int], tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GARCH_DEPLOYMENT__ROLLOUT__STEPS", str(steps))
    with pytest.raises(ConfigError, match=r"rollout steps .*rising from above 0 and ending at 100") as caught:
        load_config("azure_config.yaml")
    assert "\n" not in str(caught.value).strip()


def test_the_shipped_config_rolls_out_in_the_documented_steps() -> None:
    rollout = load_config("azure_config.yaml").deployment.rollout
    assert rollout == RolloutSection() and rollout.steps == (10, 50, 100) and rollout.keep_previous_active
