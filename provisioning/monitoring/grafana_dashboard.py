"""A Grafana dashboard for the service's Prometheus metrics, generated from the alert catalogue and metric names.

Every alert has a panel that plots exactly what its rule evaluates (the same PromQL, over Grafana's rate interval)
with the catalogue threshold drawn as a line, so what pages someone is what the dashboard shows.
`python -m provisioning.monitoring.grafana_dashboard` rewrites monitoring/dashboards/grafana.json from the
configuration.
"""

import json
import sys
from pathlib import Path
from typing import Any

from provisioning.config import ProjectConfig, load_config
from provisioning.monitoring.catalogue import AlertRule, ServiceLimits
from provisioning.monitoring.prometheus_rules import JOB, OPERATIONS_ROUTES, signal_expression

COMMITTED = Path(__file__).resolve().parents[2] / "monitoring" / "dashboards" / "grafana.json"
RATE = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_W, PANEL_H, COLUMNS = 12, 8, 2
API = f"{{{JOB},{OPERATIONS_ROUTES}}}"
UNIT_OF_SIGNAL = {
    "health": "none",
    "server_error_ratio": "percent",
    "client_error_ratio": "percent",
    "latency_p95": "ms",
    "cpu": "percent",
    "memory": "percent",
}
Target = tuple[str, str]
"""A PromQL expression and its legend."""


def _quantiles(metric: str, by: str, selector: str) -> list[Target]:
    return [
        (
            f"histogram_quantile({q}, sum by ({by}le) (rate({metric}_bucket{selector}[{RATE}]))) * 1000",
            f"p{int(q * 100)}" + (" {{" + by.rstrip(", ") + "}}" if by else ""),
        )
        for q in (0.5, 0.95, 0.99)
    ]


def _forecasts(part: str) -> str:
    selector = f'{{{JOB},operation="forecast"}}'
    return f"sum(rate(garch_model_compute_duration_seconds_{part}{selector}[{RATE}]))"


def metric_panels() -> list[tuple[str, str, list[Target]]]:
    """Title, unit and targets of the panels that are not alerts: the seed's metrics, from service/metrics.py."""
    job = f"{{{JOB}}}"
    return [
        (
            "Throughput by status",
            "reqps",
            [(f"sum by (status) (rate(garch_http_requests_total{API}[{RATE}]))", "{{status}}")],
        ),
        ("Response time (all API routes)", "ms", _quantiles("garch_http_request_duration_seconds", "", API)),
        ("Requests in flight", "none", [(f"sum(garch_http_requests_in_flight{job})", "in flight")]),
        (
            "Predictions by model",
            "ops",
            [(f"sum by (model) (rate(garch_predictions_total{job}[{RATE}]))", "{{model}}")],
        ),
        (
            "Average prediction time",
            "ms",
            [(f"{_forecasts('sum')} / {_forecasts('count')} * 1000", "forecast")],
        ),
        (
            "Model compute time",
            "ms",
            _quantiles("garch_model_compute_duration_seconds", "operation, ", job),
        ),
        (
            "Refused fits by reason",
            "short",
            [(f"sum by (reason) (increase(garch_fit_failures_total{job}[{RATE}]))", "{{reason}}")],
        ),
        (
            "Refused keys and connections by reason",
            "short",
            [
                (f"sum by (reason) (increase(garch_auth_failures_total{job}[{RATE}]))", "key: {{reason}}"),
                (f"sum by (reason) (increase(garch_http_refused_total{job}[{RATE}]))", "http: {{reason}}"),
            ],
        ),
        (
            "Models loaded and load time",
            "none",
            [
                (f"min(garch_models_loaded{job})", "models loaded"),
                (f"max(garch_model_load_seconds{job})", "load seconds"),
            ],
        ),
    ]


def alert_panel_targets(rule: AlertRule, limits: ServiceLimits) -> list[Target]:
    if rule.signal == "health":
        return [
            (f"min by (instance) (up{{{JOB}}})", "up {{instance}}"),
            (f"min(garch_models_loaded{{{JOB}}})", "models"),
        ]
    legend = "{{route}}" if rule.signal == "latency_p95" else rule.signal.replace("_", " ")
    return [(signal_expression(rule, limits, RATE), legend)]


def _panel(panel_id: int, title: str, unit: str, targets: list[Target], threshold: float | None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    index = panel_id - 1
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"x": (index % COLUMNS) * PANEL_W, "y": (index // COLUMNS) * PANEL_H, "w": PANEL_W, "h": PANEL_H},
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "thresholds": {"mode": "absolute", "steps": steps},
                "custom": {"thresholdsStyle": {"mode": "line" if threshold is not None else "off"}},
            },
            "overrides": [],
        },
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def grafana_dashboard(config: ProjectConfig) -> dict[str, Any]:
    """The dashboard JSON (Grafana 10 schema), importable as is; the Prometheus data source is chosen on import."""
    limits = ServiceLimits.from_sizes(config.deployment.cpu, config.deployment.memory_gb)
    panels = []
    for rule in config.monitoring.alerts:
        threshold = None if rule.signal == "health" else rule.threshold.value
        title = f"{rule.name}: {rule.description}"
        panels.append((title, UNIT_OF_SIGNAL[rule.signal], alert_panel_targets(rule, limits), threshold))
    panels += [(title, unit, targets, None) for title, unit, targets in metric_panels()]
    return {
        "title": "GARCH volatility API",
        "uid": "garch-volatility-api",
        "tags": ["garch-mlops"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"}]
        },
        "panels": [_panel(i, *panel) for i, panel in enumerate(panels, start=1)],
    }


def render(config: ProjectConfig) -> str:
    return json.dumps(grafana_dashboard(config), indent=2) + "\n"


def main() -> int:
    COMMITTED.parent.mkdir(parents=True, exist_ok=True)
    COMMITTED.write_text(render(load_config()))
    print(f"wrote {COMMITTED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
