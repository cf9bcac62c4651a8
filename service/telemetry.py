"""Requests, dependencies and exceptions to Application Insights, when APPLICATIONINSIGHTS_CONNECTION_STRING is set.

Without it nothing here runs and neither OpenTelemetry's SDK nor the exporters are imported. uvicorn starts every
worker as a fresh interpreter that calls `create_app`, so each worker configures its own exporters there, never the
supervisor.
"""

import logging
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("service.telemetry")

FLUSH_TIMEOUT_MS = 5_000
"""How long a stopping worker waits for its buffered telemetry to be sent; it must fit in the container's stop."""

_configured = False
"""OpenTelemetry's global providers can be set once per process; later apps in it only get instrumented."""


def instrument(app: "FastAPI", connection_string: SecretStr | None) -> None:
    """Export this process's telemetry (once) and trace the app's requests; a no-op without a connection string."""
    global _configured
    if connection_string is None:
        return
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if not _configured:
        configure_azure_monitor(
            connection_string=connection_string.get_secret_value(),
            # The distro's FastAPI instrumentation swaps the `fastapi.FastAPI` class, which misses apps built from a
            # reference imported earlier (ours): the app is instrumented explicitly below instead.
            instrumentation_options={"fastapi": {"enabled": False}},
        )
        _configured = True
        log.info("telemetry goes to Application Insights")
    # FastAPI's own telemetry steps aside for this middleware; without exclude_spans, each ASGI send/receive would
    # reach Application Insights as an in-process dependency of every request.
    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"])


def flush() -> None:
    """Send what is buffered, so the last requests of a worker that stops are not lost; a no-op if not configured."""
    if not _configured:
        return
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider()):
        if isinstance(provider, TracerProvider | MeterProvider | LoggerProvider):
            provider.force_flush(FLUSH_TIMEOUT_MS)


def record_unhandled(error: BaseException) -> None:
    """Mark the request's span failed with `error`, so Application Insights ties the exception to its request: the
    app answers unhandled errors itself (errors.UnexpectedErrorMiddleware), so the instrumentation never sees them
    raised. A no-op when telemetry is not configured."""
    if not _configured:
        return
    from opentelemetry import trace
    from opentelemetry.trace import Status, StatusCode

    span = trace.get_current_span()
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))


def mark_traffic(traffic: str) -> None:
    """Tag the request's span with its `traffic` label (customDimensions["traffic"] in Application Insights), so the
    log alerts can leave synthetic requests out as the Prometheus rules do. A no-op when telemetry is not
    configured."""
    if not _configured:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute("traffic", traffic)
