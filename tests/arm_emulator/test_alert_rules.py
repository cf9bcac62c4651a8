"""The alert catalogue as Azure holds it after a deployment: ACI provisioned against the emulator with the real SDK
clients, then every rule read back through azure-mgmt-monitor / -applicationinsights and compared with the
catalogue itself (not with the rendering that produced the requests). Needs Docker and docker-registry.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from harness.alerting.webhook_receiver import WebhookReceiver
from harness.arm_emulator.client import ArmEmulator
from provisioning.config import ProjectConfig
from provisioning.environments.azure.aci_deployment import AciDeployment
from provisioning.environments.azure.alert_rules import (
    AlertRulesDiffer,
    ensure_alert_rules,
    rendered_alert_resources,
    send_test_notification,
    verify_alert_rules,
)
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.progress import Progress
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.errors import DeploymentError
from provisioning.monitoring.catalogue import DURATION_SECONDS, GIB, AlertRule

from .conftest import ArmClients

pytestmark = pytest.mark.emulator

ALERT_EMAIL = "ops@example.com"
ACI_METRIC_UNITS = {"cpu": ("CpuUsage", 1000.0), "memory": ("MemoryUsage", float(GIB))}
"""Per catalogue signal: the ACI metric and its unit per configured core / GB (millicores, bytes)."""
TEST_NOTIFICATION_TIMEOUT_S = 30.0


@pytest.fixture
def emulated_azure(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> AzureEnvironment:
    """AZURE_* pointing every management client at the emulator, as `--env prod --azure-emulator` does."""
    for name, value in arm_emulator.environment().items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("AZURE_POLLING_INTERVAL_S", "0")
    return AzureEnvironment()


@pytest.fixture
def alert_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def with_receivers(project: ProjectConfig, webhook_url: str) -> ProjectConfig:
    notifications = project.monitoring.notifications.model_copy(
        update={"email": (ALERT_EMAIL,), "webhook_url": webhook_url}
    )
    monitoring = project.monitoring.model_copy(update={"notifications": notifications})
    return project.model_copy(update={"monitoring": monitoring})


@pytest.fixture
def deploy(emulated_azure: AzureEnvironment, local_service_image: str) -> Iterator[Any]:
    """Deploys a project configuration to the emulator as `--env prod` would; tears every deployment down after."""
    made: list[AciDeployment] = []

    def deploy_project(project: ProjectConfig) -> AciDeployment:
        deployment = AciDeployment(project, emulated_azure, local_image=local_service_image)
        made.append(deployment)
        deployment.start()
        return deployment

    yield deploy_project
    for deployment in made:
        deployment.teardown()


def held_rules(clients: ArmClients, group: str) -> dict[str, Any]:
    """Every alert rule in the group, by name, as the SDK reads it back."""
    metric = {rule.name: rule for rule in clients.monitor.metric_alerts.list_by_resource_group(group)}
    log = {rule.name: rule for rule in clients.monitor.scheduled_query_rules.list_by_resource_group(group)}
    assert not set(metric) & set(log), "a rule name is both a metric and a log alert"
    return {**metric, **log}


def seconds(duration: timedelta | str) -> float:
    """An SDK duration (the monitor models parse ISO 8601 into timedelta) in seconds."""
    return duration.total_seconds() if isinstance(duration, timedelta) else DURATION_SECONDS[duration]


def action_ids(rule: Any) -> list[str]:
    if isinstance(rule.actions, list):
        return [action.action_group_id for action in rule.actions]
    return list(rule.actions.action_groups or []) if rule.actions else []


def assert_rule_is_catalogue_entry(rule: Any, entry: AlertRule, project: ProjectConfig, ids: dict[str, str]) -> None:
    assert (rule.severity, seconds(rule.evaluation_frequency), seconds(rule.window_size)) == (
        entry.severity,
        entry.frequency_s,
        entry.window_s,
    ), entry.name
    assert rule.description == entry.description and rule.enabled and rule.auto_mitigate
    if entry.signal in ACI_METRIC_UNITS:
        metric, per_unit = ACI_METRIC_UNITS[entry.signal]
        size = project.deployment.cpu if entry.signal == "cpu" else project.deployment.memory_gb
        (criterion,) = rule.criteria.all_of
        assert rule.scopes == [ids["container_group"]]
        assert (criterion.metric_name, criterion.metric_namespace, criterion.operator) == (
            metric,
            "Microsoft.ContainerInstance/containerGroups",
            entry.operator,
        )
        assert criterion.threshold == int(entry.threshold.value / 100 * size * per_unit)
    elif entry.signal == "health":
        assert rule.criteria.odata_type == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
        assert rule.scopes == [ids["web_test"], ids["component"]]
        assert rule.criteria.component_id == ids["component"] and rule.criteria.web_test_id == ids["web_test"]
        assert rule.criteria.failed_location_count == entry.threshold.value
    else:
        (condition,) = rule.criteria.all_of
        assert rule.scopes == [ids["component"]]
        assert (condition.operator, condition.threshold) == (entry.operator, entry.threshold.value)
        assert condition.query.startswith("requests\n")


def test_a_deployment_holds_exactly_the_catalogue_and_its_action_group_notifies(
    clients: ArmClients,
    deploy: Any,
    project_config: ProjectConfig,
    alert_receiver: WebhookReceiver,
) -> None:
    project = with_receivers(project_config, alert_receiver.url)
    deployment = deploy(project)
    group = deployment.resource_group

    rules = held_rules(clients, group)
    catalogue = {entry.name: entry for entry in project.monitoring.alerts}
    assert sorted(rules) == sorted(catalogue)
    (action_group,) = clients.monitor.action_groups.list_by_resource_group(group)
    (web_test,) = clients.app_insights.web_tests.list_by_resource_group(group)
    ids = {
        "container_group": clients.containers.container_groups.get(group, deployment.names.container_group).id,
        "component": clients.app_insights.components.get(group, deployment.names.component).id,
        "web_test": web_test.id,
    }
    for name, entry in catalogue.items():
        assert_rule_is_catalogue_entry(rules[name], entry, project, ids)
        assert action_ids(rules[name]) == [action_group.id], name
    assert rules["ApiCpuHigh"].criteria.all_of[0].threshold == 800  # 80% of 1.0 vCPU, in millicores
    assert rules["ApiMemoryHigh"].criteria.all_of[0].threshold == int(0.9 * 1.5 * 2**30)  # 90% of 1.5 GB, in bytes
    fqdn = clients.containers.container_groups.get(group, deployment.names.container_group).ip_address.fqdn
    assert web_test.request.request_url == f"http://{fqdn}:{project.deployment.port}/health"
    assert [receiver.email_address for receiver in action_group.email_receivers] == [ALERT_EMAIL]
    assert [receiver.service_uri for receiver in action_group.webhook_receivers] == [alert_receiver.url]

    result = send_test_notification(
        deployment.clients, group, action_group.name, Progress(), timeout_s=TEST_NOTIFICATION_TIMEOUT_S
    )
    assert sorted((detail.mechanism_type, detail.status) for detail in result.action_details) == [
        ("Email", "Succeeded"),
        ("Webhook", "Succeeded"),
    ]
    (posted,) = alert_receiver.notifications()
    assert posted.body["schemaId"] == "azureMonitorCommonAlertSchema"
    assert posted.body["data"]["essentials"]["monitorCondition"] == "Fired"


def test_the_default_configuration_deploys_rules_that_notify_no_one_and_redeploys_prune_and_detect_drift(
    clients: ArmClients, deploy: Any, project_config: ProjectConfig
) -> None:
    """No receivers configured (the committed default): every rule still exists, without actions, and no empty
    action group. A rule left from an earlier catalogue is deleted on the next apply; a rule changed behind the
    deployment's back is reported, naming the property."""
    assert not project_config.monitoring.notifications.email and not project_config.monitoring.notifications.webhook_url
    deployment = deploy(project_config)
    group = deployment.resource_group
    rules = held_rules(clients, group)
    assert sorted(rules) == sorted(entry.name for entry in project_config.monitoring.alerts)
    assert all(action_ids(rule) == [] for rule in rules.values())
    assert list(clients.monitor.action_groups.list_by_resource_group(group)) == []

    leftover = clients.monitor.metric_alerts.get(group, "ApiCpuHigh").serialize()
    clients.monitor.metric_alerts.create_or_update(group, "ApiCpuHighOld", leftover)
    ensure_alert_rules(deployment.clients, project_config, deployment.names, Progress())
    assert sorted(held_rules(clients, group)) == sorted(entry.name for entry in project_config.monitoring.alerts)

    changed = clients.monitor.metric_alerts.get(group, "ApiMemoryHigh").serialize()
    changed["properties"]["criteria"]["allOf"][0]["threshold"] = 1
    clients.monitor.metric_alerts.create_or_update(group, "ApiMemoryHigh", changed)
    expected = rendered_alert_resources(deployment.clients, project_config, deployment.names)
    with pytest.raises(AlertRulesDiffer) as differ:
        verify_alert_rules(deployment.clients, group, expected)
    assert differ.value.differences == [
        f"ApiMemoryHigh.properties.criteria.allOf[0].threshold: sent {int(0.9 * 1.5 * 2**30)}.0, Azure holds 1.0"
    ]


@pytest.fixture
def bare_azure(bare_arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> AzureClients:
    """AzureClients on the emulator without Docker: for action groups, which need no container."""
    for name, value in bare_arm_emulator.environment().items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("AZURE_POLLING_INTERVAL_S", "0")
    return AzureClients(AzureEnvironment())


def test_a_test_notification_that_cannot_reach_its_webhook_fails_naming_it(
    bare_azure: AzureClients, bare_clients: ArmClients, bare_group: str
) -> None:
    unreachable = "http://127.0.0.1:9/alerts"  # the discard port: nothing listens on loopback
    body = {
        "location": "Global",
        "group_short_name": "garch",
        "enabled": True,
        "webhook_receivers": [{"name": "webhook", "service_uri": unreachable, "use_common_alert_schema": True}],
    }
    bare_clients.monitor.action_groups.create_or_update(bare_group, "garch-alerts", body)
    with pytest.raises(DeploymentError, match=r"Webhook http://127\.0\.0\.1:9/alerts: Failed \(could not reach"):
        send_test_notification(bare_azure, bare_group, "garch-alerts", Progress(), timeout_s=30)


@pytest.mark.parametrize(
    ("request_body", "named"),
    [
        ({"alert_type": "nonsense", "email_receivers": [{"name": "e", "email_address": ALERT_EMAIL}]}, "alertType"),
        ({"alert_type": "metricstaticthreshold"}, "webhookReceivers"),
    ],
)
def test_a_test_notification_request_is_checked_as_azure_does(
    bare_clients: ArmClients, bare_group: str, request_body: dict[str, Any], named: str
) -> None:
    body = {"location": "Global", "group_short_name": "garch", "enabled": True}
    bare_clients.monitor.action_groups.create_or_update(bare_group, "garch-alerts", body)
    with pytest.raises(HttpResponseError) as refused:
        bare_clients.monitor.action_groups.begin_create_notifications_at_action_group_resource_level(
            bare_group, "garch-alerts", request_body
        ).result()
    assert refused.value.status_code == 400 and named in refused.value.message
