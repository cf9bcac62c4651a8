"""An Azure portal dashboard for the deployment, generated from the alert catalogue and the metrics Azure has.

Charts of the ACI metrics the CPU and memory alerts watch (titled with the alert's absolute threshold, since Azure
has no percentage metric), the Application Insights request and availability metrics behind the other alerts,
and a table of the catalogue as Azure evaluates it. The body is an ARM PUT of Microsoft.Portal/dashboards.
"""

from typing import Any

from provisioning.config import ProjectConfig
from provisioning.monitoring.azure_alerts import (
    ACI_METRIC,
    ACI_NAMESPACE,
    AzureResource,
    AzureScope,
    aci_threshold,
    web_test_frequency_s,
)
from provisioning.monitoring.catalogue import AlertRule, ServiceLimits

DASHBOARDS_API = "2020-09-01-preview"
AVERAGE, MINIMUM, MAXIMUM, SUM, COUNT = 4, 2, 3, 1, 7
"""The portal's aggregationType codes."""
ACI_METRICS = frozenset(
    {"CpuUsage", "MemoryUsage", "NetworkBytesReceivedPerSecond", "NetworkBytesTransmittedPerSecond"}
)
INSIGHTS_NAMESPACE = "microsoft.insights/components"
PART_W, PART_H, COLUMNS = 6, 4, 3
Metric = tuple[str, str, int, str]
"""(resource id, metric name, aggregation, display name)."""


def azure_threshold_text(rule: AlertRule, limits: ServiceLimits, config: ProjectConfig) -> str:
    """The threshold as Azure evaluates it, in the unit of the metric or query it is applied to."""
    percent = f"{rule.threshold.value:g}%"
    if rule.signal == "cpu":
        return f"CpuUsage > {aci_threshold(rule, limits):g} millicores ({percent} of {limits.cpu_cores:g} vCPU)"
    if rule.signal == "memory":
        size = f"{config.deployment.memory_gb:g} GB"
        return f"MemoryUsage > {aci_threshold(rule, limits):.0f} bytes ({percent} of {size})"
    if rule.signal == "health":
        every = web_test_frequency_s(config.monitoring)
        return f">= {rule.threshold.value:g} failed web test locations (checks every {every} s)"
    unit = "ms" if rule.signal == "latency_p95" else "%"
    return f"{rule.signal} > {rule.threshold.value:g} {unit} (request telemetry)"


def _markdown(config: ProjectConfig, limits: ServiceLimits) -> str:
    rows = [
        f"| {rule.name} | Sev{rule.severity} | {azure_threshold_text(rule, limits, config)} "
        f"| {rule.window} / {rule.frequency} |"
        for rule in config.monitoring.alerts
    ]
    header = "| Alert | Severity | Fires when | Window / every |\n|---|---|---|---|"
    return "\n".join(["### Alert catalogue (azure_config.yaml)", "", header, *rows])


def _chart(title: str, metrics: list[Metric]) -> dict[str, Any]:
    return {
        "type": "Extension/HubsExtension/PartType/MonitorChartPart",
        "inputs": [
            {
                "name": "options",
                "isOptional": True,
                "value": {
                    "chart": {
                        "title": title,
                        "titleKind": 2,
                        "metrics": [
                            {
                                "resourceMetadata": {"id": resource_id},
                                "name": name,
                                "aggregationType": aggregation,
                                "namespace": ACI_NAMESPACE.lower() if name in ACI_METRICS else INSIGHTS_NAMESPACE,
                                "metricVisualization": {"displayName": display},
                            }
                            for resource_id, name, aggregation, display in metrics
                        ],
                        "visualization": {"chartType": 2, "legendVisualization": {"isVisible": True, "position": 2}},
                    }
                },
            },
            {"name": "sharedTimeRange", "isOptional": True},
        ],
        "settings": {},
    }


def azure_dashboard(scope: AzureScope, config: ProjectConfig, name: str = "garch-api-dashboard") -> AzureResource:
    limits = ServiceLimits.from_sizes(config.deployment.cpu, config.deployment.memory_gb)
    charts = [_chart(title, metrics) for title, metrics in _charts(scope, config, limits)]
    metadata = [_markdown_part(config, limits), *charts]
    body = {
        "location": scope.location,
        "tags": {"hidden-title": "GARCH volatility API"},
        "properties": {
            "lenses": [{"order": 0, "parts": _laid_out(metadata)}],
            "metadata": {
                "model": {
                    "timeRange": {
                        "value": {"relative": {"duration": 24, "timeUnit": 1}},
                        "type": "MsPortalFx.Composition.Configuration.ValueTypes.TimeRange",
                    }
                }
            },
        },
    }
    resource_id = scope.resource_id("Microsoft.Portal/dashboards", name)
    return AzureResource(resource_id, DASHBOARDS_API, body)


def _charts(scope: AzureScope, config: ProjectConfig, limits: ServiceLimits) -> list[tuple[str, list[Metric]]]:
    """(title, metrics) of each chart: the ACI metrics the alerts watch, then network and request telemetry."""
    group, insights = scope.container_group_id, scope.app_insights_id
    by_signal: dict[str, AlertRule] = {rule.signal: rule for rule in config.monitoring.alerts}
    charts: list[tuple[str, list[Metric]]] = []
    for signal, metric in ACI_METRIC.items():
        rule = by_signal.get(signal)
        alert = f" (alert: {azure_threshold_text(rule, limits, config)})" if rule else ""
        charts.append((f"{metric}{alert}", [(group, metric, AVERAGE, metric)]))
    charts += [
        (
            "Network bytes per second",
            [
                (group, "NetworkBytesReceivedPerSecond", AVERAGE, "received"),
                (group, "NetworkBytesTransmittedPerSecond", AVERAGE, "transmitted"),
            ],
        ),
        (
            "Requests and failed requests",
            [(insights, "requests/count", COUNT, "requests"), (insights, "requests/failed", COUNT, "failed")],
        ),
        ("Response time", [(insights, "requests/duration", AVERAGE, "average ms")]),
        ("Availability (health web test)", [(insights, "availabilityResults/availabilityPercentage", AVERAGE, "%")]),
    ]
    return charts


def _markdown_part(config: ProjectConfig, limits: ServiceLimits) -> dict[str, Any]:
    return {
        "type": "Extension/HubsExtension/PartType/MarkdownPart",
        "inputs": [],
        "settings": {
            "content": {
                "settings": {
                    "content": _markdown(config, limits),
                    "title": "GARCH volatility API",
                    "subtitle": "",
                    "markdownSource": 1,
                }
            }
        },
    }


def _laid_out(metadata: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts on the portal's grid: the catalogue table across the first row, then COLUMNS charts a row."""
    parts = []
    for index, part in enumerate(metadata):
        wide = index == 0  # the catalogue table spans the first row
        column = 0 if wide else (index - 1) % COLUMNS
        row = 0 if wide else 1 + (index - 1) // COLUMNS
        position = {
            "x": column * PART_W,
            "y": row * PART_H,
            "colSpan": PART_W * COLUMNS if wide else PART_W,
            "rowSpan": PART_H,
        }
        parts.append({"position": position, "metadata": part})
    return parts
