"""The alert catalogue: what azure_config.yaml may say, and its three views held together.

One catalogue entry, its Azure Monitor resource and its Prometheus rule must agree on name, severity, window,
frequency and threshold, the threshold converted to each engine's unit.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from provisioning.config import ConfigError, MonitoringSection, ProjectConfig, load_config
from provisioning.monitoring.azure_alerts import (
    ACI_NAMESPACE,
    AzureResource,
    AzureScope,
    notification_notes,
    render_azure_monitor,
)
from provisioning.monitoring.catalogue import DEFAULT_ALERTS, AlertRule, ServiceLimits
from provisioning.monitoring.prometheus_rules import Cadence, go_duration, go_float, render_rule_groups

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SCOPE = AzureScope("00000000-0000-0000-0000-000000000000", "garch-rg", "westeurope", "garch-api", "garch-ai")
HEALTH_URL = "http://garch-api-1a2b.westeurope.azurecontainer.io:8001/health"
TWO_VCPU = ServiceLimits.from_sizes(cpu=2.0, memory_gb=1.5)


def valid_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": "ApiCpuHigh",
        "signal": "cpu",
        "operator": "GreaterThan",
        "threshold": {"value": 80, "unit": "percent_of_limit"},
        "window": "PT5M",
        "frequency": "PT1M",
        "severity": 2,
        "description": "The service uses more than 80% of its CPU limit.",
        "channels": ["email", "webhook"],
    }
    rule.update(changes)
    return rule


def monitoring_with_receivers(monitoring: MonitoringSection) -> MonitoringSection:
    receivers = {"email": ("ops@example.com",), "webhook_url": "https://hooks.example.com/garch"}
    return monitoring.model_copy(update={"notifications": monitoring.notifications.model_copy(update=receivers)})


@pytest.mark.parametrize("config_file", ["azure_config.yaml", "azure_config.example.yaml"])
def test_configuration_files_hold_the_default_catalogue(config_file: str) -> None:
    assert load_config(ROOT / config_file).monitoring.alerts == DEFAULT_ALERTS
    assert {rule.signal for rule in DEFAULT_ALERTS} == {
        "health",
        "server_error_ratio",
        "client_error_ratio",
        "latency_p95",
        "cpu",
        "memory",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"severity": 5}, "less than or equal to 4"),
        ({"severity": -1}, "greater than or equal to 0"),
        ({"frequency": "PT2M"}, "'PT1M', 'PT5M', 'PT15M', 'PT30M' or 'PT1H'"),
        ({"window": "PT2M"}, "'PT1M', 'PT5M'"),
        ({"window": "PT1M", "frequency": "PT5M"}, "window PT1M is shorter than frequency PT5M"),
        ({"threshold": {"value": 1600, "unit": "ms"}}, "a cpu threshold is in percent_of_limit, not ms"),
        ({"threshold": {"value": 120, "unit": "percent_of_limit"}}, "is over 100%"),
        ({"threshold": {"value": 0, "unit": "percent_of_limit"}}, "greater than 0"),
        ({"operator": "LessThan"}, "'GreaterThan' or 'GreaterThanOrEqual'"),
        ({"channels": ["email", "email"]}, "a channel is listed twice"),
        ({"channels": []}, "at least 1 item"),
        ({"channels": ["sms"]}, "'email' or 'webhook'"),
        ({"name": "cpu high"}, "should match pattern"),
        ({"description": "short"}, "at least 10 characters"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
        (
            {"signal": "health", "operator": "GreaterThan", "threshold": {"value": 3, "unit": "failed_checks"}},
            "a health rule counts whole failed checks with GreaterThanOrEqual",
        ),
    ],
)
def test_a_rule_azure_would_refuse_is_refused_here(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        AlertRule.model_validate(valid_rule(**changes))


def test_the_catalogue_must_agree_with_itself_and_the_health_checks() -> None:
    cpu = valid_rule()
    with pytest.raises(ValidationError, match="repeated: ApiCpuHigh"):
        MonitoringSection.model_validate({"alerts": [cpu, cpu]})
    health = valid_rule(
        name="ApiUnhealthy",
        signal="health",
        operator="GreaterThanOrEqual",
        threshold={"value": 4, "unit": "failed_checks"},
    )
    with pytest.raises(ValidationError, match="differs from failed_health_checks_before_alert 3"):
        MonitoringSection.model_validate({"alerts": [health]})
    with pytest.raises(ValidationError, match="2 web test locations cannot report 3 failed checks"):
        MonitoringSection.model_validate({"web_test_locations": ["us-va-ash-azr", "emea-nl-ams-azr"]})
    with pytest.raises(ValidationError, match="at most 12 characters"):
        MonitoringSection.model_validate({"notifications": {"action_group_short_name": "garch-alerts-prod"}})


def test_a_bad_catalogue_entry_stops_loading_with_its_key(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "azure_config.yaml").read_text())
    config["monitoring"]["alerts"][4]["severity"] = 7
    path = tmp_path / "azure_config.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"monitoring\.alerts\.4\.severity: Input should be less than or equal to 4"):
        load_config(path)


def azure_by_name(resources: list[AzureResource]) -> dict[str, AzureResource]:
    return {resource.name: resource for resource in resources}


@pytest.mark.parametrize("rule", DEFAULT_ALERTS, ids=lambda rule: rule.name)
def test_one_entry_one_azure_rule_one_prometheus_rule(rule: AlertRule, project_config: ProjectConfig) -> None:
    monitoring = monitoring_with_receivers(project_config.monitoring)
    azure = azure_by_name(render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL))[rule.name]
    cadence = Cadence.production(monitoring)
    groups = render_rule_groups(DEFAULT_ALERTS, TWO_VCPU, cadence)["groups"]
    ((group, prometheus),) = [(g, r) for g in groups for r in g["rules"] if r["alert"] == rule.name]

    properties = azure.body["properties"]
    assert properties["severity"] == rule.severity and properties["description"] == rule.description
    assert (properties["evaluationFrequency"], properties["windowSize"]) == (rule.frequency, rule.window)
    assert properties["autoMitigate"] is True
    assert prometheus["labels"]["severity"] == rule.severity_name
    assert prometheus["labels"]["azure_severity"] == str(rule.severity)
    assert prometheus["annotations"]["summary"] == rule.description

    if rule.signal == "health":
        criteria = properties["criteria"]
        assert azure.type == "Microsoft.Insights/metricAlerts"
        assert criteria["odata.type"] == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
        assert criteria["failedLocationCount"] == rule.threshold.value == 3
        assert properties["scopes"] == [criteria["webTestId"], SCOPE.app_insights_id]
        assert prometheus["for"] == go_duration((rule.threshold.value - 1) * cadence.check_interval_s) == "1m"
        assert group["interval"] == go_duration(cadence.check_interval_s)
        return
    assert group["interval"] == go_duration(rule.frequency_s) == "1m"
    assert f"[{go_duration(rule.window_s)}]" in prometheus["expr"]
    assert prometheus["for"] == "0s"
    if rule.signal in ("cpu", "memory"):
        (criterion,) = properties["criteria"]["allOf"]
        assert azure.type == "Microsoft.Insights/metricAlerts" and properties["scopes"] == [SCOPE.container_group_id]
        assert (criterion["metricNamespace"], criterion["timeAggregation"]) == (ACI_NAMESPACE, "Average")
        if rule.signal == "cpu":
            assert criterion["metricName"] == "CpuUsage" and criterion["threshold"] == 1600  # 80% of 2 vCPU
            assert prometheus["expr"].endswith(f"/ 2 > {go_float(rule.threshold.value)}")
        else:
            assert criterion["metricName"] == "MemoryUsage"
            assert criterion["threshold"] == int(0.9 * 1.5 * 2**30) == 1_449_551_462  # bytes
            assert prometheus["expr"].endswith("/ 1.610612736e+09 > 90")
        return
    (criterion,) = properties["criteria"]["allOf"]
    assert azure.type == "Microsoft.Insights/scheduledQueryRules" and properties["scopes"] == [SCOPE.app_insights_id]
    assert (criterion["operator"], criterion["threshold"]) == (rule.operator, rule.threshold.value)
    assert prometheus["expr"].endswith(f"> {go_float(rule.threshold.value)}")
    # Both engines leave a verification run's synthetic traffic out of every ratio and percentile.
    assert 'traffic!="synthetic"' in prometheus["expr"]
    assert prometheus["expr"].count("garch_http_") == prometheus["expr"].count('traffic!="synthetic"')
    assert '| where tostring(customDimensions["traffic"]) != "synthetic"' in criterion["query"]
    if rule.signal == "latency_p95":
        assert "percentile(duration, 95)" in criterion["query"] and criterion["metricMeasureColumn"] == "p95_ms"
        assert "histogram_quantile(0.95," in prometheus["expr"] and "* 1000 >" in prometheus["expr"]
    else:
        status = "5" if rule.signal == "server_error_ratio" else "4"
        assert f"between ({status}00 .. {status}99)" in criterion["query"]
        assert f'status=~"{status}.."' in prometheus["expr"]


def test_cpu_and_memory_thresholds_follow_the_configured_size(project_config: ProjectConfig) -> None:
    monitoring = monitoring_with_receivers(project_config.monitoring)
    configured = ServiceLimits.from_sizes(project_config.deployment.cpu, project_config.deployment.memory_gb)
    by_name = azure_by_name(render_azure_monitor(SCOPE, monitoring, configured, HEALTH_URL))
    cpu = by_name["ApiCpuHigh"].body["properties"]["criteria"]["allOf"][0]["threshold"]
    memory = by_name["ApiMemoryHigh"].body["properties"]["criteria"]["allOf"][0]["threshold"]
    assert cpu == 0.8 * project_config.deployment.cpu * 1000
    assert memory == int(0.9 * project_config.deployment.memory_gb * 2**30)


def test_one_action_group_with_email_and_webhook_in_the_common_schema(project_config: ProjectConfig) -> None:
    monitoring = monitoring_with_receivers(project_config.monitoring)
    resources = render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL)
    groups = [r for r in resources if r.type == "Microsoft.Insights/actionGroups"]
    assert len(groups) == 1 and resources[0] is groups[0]
    body = groups[0].body
    assert body["location"] == "Global" and len(body["properties"]["groupShortName"]) <= 12
    assert body["properties"]["emailReceivers"] == [
        {"name": "email-1", "emailAddress": "ops@example.com", "useCommonAlertSchema": True}
    ]
    assert body["properties"]["webhookReceivers"] == [
        {"name": "webhook", "serviceUri": "https://hooks.example.com/garch", "useCommonAlertSchema": True}
    ]
    alerts = [r for r in resources if r.type.endswith(("metricAlerts", "scheduledQueryRules"))]
    assert sorted(r.name for r in alerts) == sorted(rule.name for rule in DEFAULT_ALERTS)
    for alert in alerts:
        actions = alert.body["properties"]["actions"]
        ids = [a["actionGroupId"] for a in actions] if isinstance(actions, list) else actions["actionGroups"]
        assert ids == [groups[0].id]
    for metric_alert in (r for r in alerts if r.type.endswith("metricAlerts")):
        assert metric_alert.body["location"] == "global"


def alert_actions(resource: AzureResource) -> list[str]:
    actions = resource.body["properties"]["actions"]
    return [a["actionGroupId"] for a in actions] if isinstance(actions, list) else actions["actionGroups"]


def test_without_receivers_the_rules_deploy_without_actions_and_say_so(project_config: ProjectConfig) -> None:
    monitoring = project_config.monitoring
    assert not monitoring.notifications.email and not monitoring.notifications.webhook_url
    resources = render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL)
    alerts = [r for r in resources if r.type.endswith(("metricAlerts", "scheduledQueryRules"))]
    assert not [r for r in resources if r.type == "Microsoft.Insights/actionGroups"]
    assert sorted(r.name for r in alerts) == sorted(rule.name for rule in monitoring.alerts)
    assert all(alert_actions(alert) == [] for alert in alerts)
    notes = notification_notes(monitoring)
    assert [note.split(":")[0] for note in notes[:2]] == [
        "monitoring.notifications.email is empty",
        "monitoring.notifications.webhook_url is unset",
    ]
    assert all(rule.name in notes[2] for rule in monitoring.alerts) and "notify no one" in notes[2]


def test_only_the_configured_channels_get_receivers(project_config: ProjectConfig) -> None:
    notifications = project_config.monitoring.notifications.model_copy(update={"webhook_url": "https://hooks.example"})
    monitoring = project_config.monitoring.model_copy(update={"notifications": notifications})
    resources = render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL)
    (group,) = [r for r in resources if r.type == "Microsoft.Insights/actionGroups"]
    assert group.name == notifications.action_group
    assert group.body["properties"]["emailReceivers"] == []
    assert [r["serviceUri"] for r in group.body["properties"]["webhookReceivers"]] == ["https://hooks.example"]
    alerts = [r for r in resources if r.type.endswith(("metricAlerts", "scheduledQueryRules"))]
    assert all(alert_actions(alert) == [group.id] for alert in alerts)
    (note,) = notification_notes(monitoring)
    assert note.startswith("monitoring.notifications.email is empty") and "by email" in note


def test_the_web_test_checks_health_from_every_location(project_config: ProjectConfig) -> None:
    monitoring = monitoring_with_receivers(project_config.monitoring)
    (web_test,) = [
        r
        for r in render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL)
        if r.type == "Microsoft.Insights/webtests"
    ]
    properties = web_test.body["properties"]
    assert properties["Request"]["RequestUrl"] == HEALTH_URL
    assert properties["ValidationRules"]["ExpectedHttpStatusCode"] == 200
    assert [loc["Id"] for loc in properties["Locations"]] == list(monitoring.web_test_locations)
    assert properties["Frequency"] == 300 and properties["RetryEnabled"] is False
    assert web_test.body["tags"] == {f"hidden-link:{SCOPE.app_insights_id}": "Resource"}


def test_every_body_is_what_the_azure_sdk_models_describe(project_config: ProjectConfig) -> None:
    """Deserialised by azure-mgmt-monitor / -applicationinsights and serialised back unchanged: no unknown keys."""
    monitor = pytest.importorskip("azure.mgmt.monitor.models")
    insights = pytest.importorskip("azure.mgmt.applicationinsights.v2022_06_15.models")
    models = {
        "Microsoft.Insights/actionGroups": monitor.ActionGroupResource,
        "Microsoft.Insights/metricAlerts": monitor.MetricAlertResource,
        "Microsoft.Insights/scheduledQueryRules": monitor.ScheduledQueryRuleResource,
        "Microsoft.Insights/webtests": insights.WebTest,
    }
    monitoring = monitoring_with_receivers(project_config.monitoring)
    for resource in render_azure_monitor(SCOPE, monitoring, TWO_VCPU, HEALTH_URL):
        assert models[resource.type].deserialize(resource.body).serialize() == resource.body, resource.name
