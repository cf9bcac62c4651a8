"""The generated dashboards: Grafana's queries run on the real Prometheus, Azure's charts name metrics Azure has."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.alerting.prometheus_stack import PrometheusStack, run_tool
from harness.pytest_plugin.deployment import HarnessOptions
from harness.synthetic_traffic import api_key_headers
from provisioning.config import ProjectConfig, load_config
from provisioning.monitoring.azure_alerts import AzureScope, aci_threshold
from provisioning.monitoring.azure_dashboard import ACI_METRICS, AVERAGE, MAXIMUM, MINIMUM, azure_dashboard
from provisioning.monitoring.catalogue import ServiceLimits
from provisioning.monitoring.grafana_dashboard import COMMITTED, RATE, grafana_dashboard, render
from provisioning.waiting import wait_until
from service import metrics as service_metrics

ROOT = Path(__file__).resolve().parents[2]
SCOPE = AzureScope("00000000-0000-0000-0000-000000000000", "garch-rg", "westeurope", "garch-api", "garch-ai")
QUERY_WINDOW = "10s"
DATA_WITHIN_S = 15.0
EMPTY_WITHOUT_5XX = "ApiServerErrorRatioHigh"
"""Its panel is a ratio with 5xx on top: no 5xx series exists on a healthy service, so it has no data."""
EMPTY_WITHOUT_REFUSALS = "Refused keys and connections"
"""Counted only once a key or a connection was refused: where no key is set and nothing is refused, no series."""


def expressions(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def overlapping(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
    """Pairs of boxes (x, y, w, h) that share a cell."""
    return [
        (i, j)
        for i, (x1, y1, w1, h1) in enumerate(boxes)
        for j, (x2, y2, w2, h2) in enumerate(boxes)
        if i < j and x1 < x2 + w2 and x2 < x1 + w1 and y1 < y2 + h2 and y2 < y1 + h1
    ]


def service_metric_names() -> set[str]:
    """Every metric family service/metrics.py defines (what dashboards and rules are built on)."""
    families = {
        family.name
        for value in vars(service_metrics).values()
        if hasattr(value, "describe") and hasattr(value, "_name")
        for family in value.describe()
    }
    assert len(families) >= 8, families
    return families


@pytest.mark.unit
def test_the_committed_grafana_dashboard_is_the_generated_one() -> None:
    assert COMMITTED.read_text() == render(load_config(ROOT / "azure_config.yaml")), (
        "monitoring/dashboards/grafana.json is stale: run python -m provisioning.monitoring.grafana_dashboard"
    )


@pytest.mark.unit
def test_grafana_shows_every_service_metric_and_every_alert_at_its_threshold(project_config: ProjectConfig) -> None:
    dashboard = grafana_dashboard(project_config)
    text = " ".join(expr for _, expr in expressions(dashboard))
    assert not [name for name in service_metric_names() if name not in text]
    assert "process_cpu_seconds_total{" in text and "process_resident_memory_bytes{" in text
    panels = {panel["title"].split(":")[0]: panel for panel in dashboard["panels"]}
    for rule in project_config.monitoring.alerts:
        steps = panels[rule.name]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        if rule.signal != "health":
            assert steps[-1]["value"] == rule.threshold.value, rule.name
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    grid = [(p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"], p["gridPos"]["h"]) for p in dashboard["panels"]]
    assert not overlapping(grid) and all(x + w <= 24 for x, _, w, _ in grid)
    assert all(t["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"] for t in p["targets"])


@pytest.mark.unit
def test_every_grafana_query_is_valid_promql(project_config: ProjectConfig, tmp_path: Path) -> None:
    rules = [
        {"record": f"dashboard:panel_{i}", "expr": expr.replace(RATE, "5m")}
        for i, (_, expr) in enumerate(expressions(grafana_dashboard(project_config)))
    ]
    (tmp_path / "panels.yml").write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in run_tool("promtool", "check", "rules", "panels.yml", cwd=tmp_path)


@pytest.mark.unit
def test_azure_dashboard_charts_metrics_azure_has_on_the_deployment(project_config: ProjectConfig) -> None:
    config = project_config.model_copy(update={"deployment": project_config.deployment.model_copy(update={"cpu": 2.0})})
    resource = azure_dashboard(SCOPE, config)
    assert resource.type == "Microsoft.Portal/dashboards" and resource.api_version == "2020-09-01-preview"
    parts = resource.body["properties"]["lenses"][0]["parts"]
    grid = [(p["position"]["x"], p["position"]["y"], p["position"]["colSpan"], p["position"]["rowSpan"]) for p in parts]
    assert not overlapping(grid)
    charted = [
        metric
        for part in parts
        for option in part["metadata"]["inputs"]
        if option["name"] == "options"
        for metric in option["value"]["chart"]["metrics"]
    ]
    aci = [m for m in charted if m["resourceMetadata"]["id"] == SCOPE.container_group_id]
    assert {m["name"] for m in aci} == ACI_METRICS
    assert {m["aggregationType"] for m in aci} <= {AVERAGE, MINIMUM, MAXIMUM}
    assert all(m["resourceMetadata"]["id"] in (SCOPE.container_group_id, SCOPE.app_insights_id) for m in charted)
    titles = [o["value"]["chart"]["title"] for p in parts for o in p["metadata"]["inputs"] if o["name"] == "options"]
    assert any("CpuUsage > 1600 millicores (80% of 2 vCPU)" in title for title in titles)
    markdown = parts[0]["metadata"]["settings"]["content"]["settings"]["content"]
    limits = ServiceLimits.from_sizes(2.0, config.deployment.memory_gb)
    for rule in config.monitoring.alerts:
        assert f"| {rule.name} | Sev{rule.severity} |" in markdown
        if rule.signal in ("cpu", "memory"):
            assert f"{aci_threshold(rule, limits):.0f}" in markdown
    json.dumps(resource.body)


def test_every_grafana_query_answers_from_the_live_deployment(
    scraped_deployment: PrometheusStack,
    live_url: str,
    harness_options: HarnessOptions,
    project_config: ProjectConfig,
) -> None:
    """Traffic of every kind the panels show, then each panel query on the real Prometheus: no error, and data.
    Sent unlabelled, as real callers do: the alert panels leave synthetic (verification) traffic out."""
    with httpx.Client(base_url=live_url, headers=api_key_headers(harness_options.api_key), timeout=30) as real:
        assert real.get("/predict", params={"horizon": 2}).status_code == 200
        assert real.get("/predict", params={"horizon": 999}).status_code == 400
        assert real.post("/predict/custom", json={"returns": [0.0] * 150}).status_code == 422  # a refused fit
        assert real.post("/predict/custom", json={"returns": [(i % 7 - 3) / 2 for i in range(150)]}).status_code == 200
    pending = {expr: title for title, expr in expressions(grafana_dashboard(project_config))}

    def every_panel_has_data() -> bool:
        for expr in list(pending):
            if scraped_deployment.query(expr.replace(RATE, QUERY_WINDOW)):  # raises on a PromQL error
                del pending[expr]
        return all(title.startswith((EMPTY_WITHOUT_5XX, EMPTY_WITHOUT_REFUSALS)) for title in pending.values())

    wait_until(
        every_panel_has_data,
        what="data in every panel",
        where=scraped_deployment.prometheus_url,
        timeout_s=DATA_WITHIN_S,
        interval_s=0.5,
        last_seen=lambda: f"without data: {sorted(set(pending.values()))}",
    )
