"""The service's Prometheus metrics. Names are stable: dashboards and alert rules are built on them.

With several worker processes, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
`python -m service`) aggregates every worker's samples, so /metrics reports totals whichever worker answers.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from .process_tree_metrics import ProcessTreeCollector
from .traffic import TRAFFIC_LABEL

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "garch_http_requests_total",
    "HTTP requests answered, by route template, method, status and traffic ('synthetic' for verification runs).",
    ["route", "method", "status", TRAFFIC_LABEL],
)
HTTP_LATENCY = Histogram(
    "garch_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and traffic ('synthetic' for verification runs).",
    ["route", TRAFFIC_LABEL],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "garch_http_requests_in_flight", "HTTP requests being answered now.", multiprocess_mode="livesum"
)
PREDICTIONS = Counter(
    "garch_predictions_total", "Forecasts served, by model ('custom' for /predict/custom).", ["model"]
)
MODEL_COMPUTE = Histogram(
    "garch_model_compute_duration_seconds",
    "Time spent in arch, by operation (fit or forecast).",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
FIT_FAILURES = Counter("garch_fit_failures_total", "Custom fits refused after validation, by reason.", ["reason"])
AUTH_FAILURES = Counter(
    "garch_auth_failures_total",
    "Requests refused for their API key: missing, wrong, or rate_limited (too many wrong keys from the address).",
    ["reason"],
)
HTTP_REFUSED = Counter(
    "garch_http_refused_total",
    "Requests and connections the server refused before or while the app read them: head_too_large (431), "
    "head_timeout and body_timeout (408), idle_timeout (closed), overloaded (503).",
    ["reason"],
)
MODEL_LOAD_SECONDS = Gauge(
    "garch_model_load_seconds",
    "Seconds the last start-up took to fit or load the served models.",
    multiprocess_mode="max",
)
MODELS_LOADED = Gauge("garch_models_loaded", "Models ready to serve.", multiprocess_mode="livemin")


def render_latest(supervisor_pid: int | None = None) -> tuple[bytes, str]:
    """The exposition text: this process's registry, or the sum over all workers and the process tree."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(ProcessTreeCollector(supervisor_pid or os.getpid()))
    return generate_latest(registry), CONTENT_TYPE_LATEST
