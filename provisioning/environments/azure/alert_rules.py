"""The alert catalogue on Azure: every rendered Azure Monitor resource PUT through the SDKs, then read back.

A PUT's answer only says Azure accepted the request; reading every resource back and comparing it with what was sent
is what shows the rules Azure evaluates are the catalogue. Alert resources in the run's group that the catalogue no
longer has are deleted, so a redeploy with a shorter catalogue leaves exactly the catalogue.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provisioning.config import ProjectConfig
from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.names import AciNames
from provisioning.environments.azure.progress import Progress
from provisioning.errors import DeploymentError
from provisioning.monitoring.azure_alerts import (
    ACI_NAMESPACE,
    AzureResource,
    AzureScope,
    notification_notes,
    render_azure_monitor,
)
from provisioning.monitoring.catalogue import ServiceLimits

ACTION_GROUPS = "Microsoft.Insights/actionGroups"
METRIC_ALERTS = "Microsoft.Insights/metricAlerts"
LOG_ALERTS = "Microsoft.Insights/scheduledQueryRules"
WEB_TESTS = "Microsoft.Insights/webtests"
DELETE_ORDER = (METRIC_ALERTS, LOG_ALERTS, WEB_TESTS, ACTION_GROUPS)
"""Rules before what they name (a web test, an action group)."""
TEST_ALERT_TYPE = "metricstaticthreshold"


@dataclass(frozen=True)
class AlertTarget:
    """What the rules watch: the workload's resource type, where its /health is, and the sizes its limits are."""

    namespace: str
    health_url: str
    limits: ServiceLimits


@dataclass(frozen=True)
class HeldResource:
    """A resource as Azure holds it: its id, type and body (REST keys, read-only properties included)."""

    id: str
    type: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[1]


class AlertRulesDiffer(DeploymentError):
    """What Azure holds differs from what was sent: one line per property."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        super().__init__("the alert rules Azure holds differ from the catalogue: " + "; ".join(differences))


class _Operations:
    """The SDK calls per resource type: create_or_update, get, list_by_resource_group and delete, plus the model."""

    def __init__(self, clients: AzureClients) -> None:
        from azure.mgmt.applicationinsights.v2022_06_15 import models as insights
        from azure.mgmt.monitor import models as monitor

        self.by_type: dict[str, tuple[Any, Any]] = {
            ACTION_GROUPS: (clients.monitor.action_groups, monitor.ActionGroupResource),
            METRIC_ALERTS: (clients.monitor.metric_alerts, monitor.MetricAlertResource),
            LOG_ALERTS: (clients.monitor.scheduled_query_rules, monitor.ScheduledQueryRuleResource),
            WEB_TESTS: (clients.app_insights.web_tests, insights.WebTest),
        }

    def put(self, resource_group: str, resource: AzureResource) -> None:
        operations, model = self.by_type[resource.type]
        with arm_operation(f"creating {resource.type} {resource.name}"):
            operations.create_or_update(resource_group, resource.name, model.deserialize(resource.body))

    def get(self, resource_group: str, resource_type: str, name: str) -> HeldResource:
        operations, _ = self.by_type[resource_type]
        with arm_operation(f"reading {resource_type} {name}"):
            held = operations.get(resource_group, name)
        return HeldResource(held.id, resource_type, held.serialize(keep_readonly=True))

    def names(self, resource_group: str, resource_type: str) -> list[str]:
        operations, _ = self.by_type[resource_type]
        with arm_operation(f"listing {resource_type} in {resource_group}"):
            return [item.name for item in operations.list_by_resource_group(resource_group)]

    def delete(self, resource_group: str, resource_type: str, name: str) -> None:
        operations, _ = self.by_type[resource_type]
        with arm_operation(f"deleting {resource_type} {name}"):
            operations.delete(resource_group, name)


def alert_scope(
    clients: AzureClients, project: ProjectConfig, names: AciNames, namespace: str = ACI_NAMESPACE
) -> AzureScope:
    return AzureScope(
        clients.azure.subscription_id,
        names.resource_group,
        project.azure.location,
        names.container_group,
        names.component,
        namespace,
    )


def health_url(clients: AzureClients, project: ProjectConfig, names: AciNames) -> str:
    """/health at the container group's DNS name (stable across restarts, unlike its IP), else at its IP."""
    with arm_operation(f"reading container group {names.container_group}"):
        group = clients.container_instances.container_groups.get(names.resource_group, names.container_group)
    address = group.ip_address
    host = address.fqdn or address.ip if address else None
    if not host:
        raise DeploymentError(f"container group {names.container_group} has no public address to health-check")
    return f"http://{host}:{project.deployment.port}/health"


def aci_target(clients: AzureClients, project: ProjectConfig, names: AciNames) -> AlertTarget:
    limits = ServiceLimits.from_sizes(project.deployment.cpu, project.deployment.memory_gb)
    return AlertTarget(ACI_NAMESPACE, health_url(clients, project, names), limits)


def rendered_alert_resources(
    clients: AzureClients, project: ProjectConfig, names: AciNames, target: AlertTarget | None = None
) -> list[AzureResource]:
    """What the catalogue says this deployment's resource group must hold (the ACI container group's rules unless
    `target` names another workload)."""
    target = target or aci_target(clients, project, names)
    scope = alert_scope(clients, project, names, target.namespace)
    return render_azure_monitor(scope, project.monitoring, target.limits, target.health_url)


def ensure_alert_rules(
    clients: AzureClients,
    project: ProjectConfig,
    names: AciNames,
    progress: Progress,
    target: AlertTarget | None = None,
) -> list[HeldResource]:
    """Create or update every catalogue resource, delete alert resources it no longer has, and return what Azure
    holds once each has been read back and found equal to what was sent (AlertRulesDiffer otherwise)."""
    resources = rendered_alert_resources(clients, project, names, target)
    operations = _Operations(clients)
    resource_group = names.resource_group
    for resource in resources:
        operations.put(resource_group, resource)
    wanted = {(resource.type, resource.name.lower()) for resource in resources}
    for resource_type in DELETE_ORDER:
        for name in operations.names(resource_group, resource_type):
            if (resource_type, name.lower()) not in wanted:
                operations.delete(resource_group, resource_type, name)
                progress.say(f"[alerts] deleted {resource_type} {name}: not in the catalogue")
    held = verify_alert_rules(clients, resource_group, resources)
    rules = sum(resource.type in (METRIC_ALERTS, LOG_ALERTS) for resource in resources)
    progress.say(f"[alerts] {rules} alert rules and {len(resources) - rules} supporting resources match the catalogue")
    for note in notification_notes(project.monitoring):
        progress.say(f"[alerts] note: {note}")
    return held


def verify_alert_rules(
    clients: AzureClients, resource_group: str, resources: Iterable[AzureResource]
) -> list[HeldResource]:
    """Read every resource back; AlertRulesDiffer unless each holds what was sent and nothing else is there."""
    operations = _Operations(clients)
    expected = list(resources)
    held = [operations.get(resource_group, resource.type, resource.name) for resource in expected]
    differences = [
        f"{resource.name}{difference}"
        for resource, found in zip(expected, held, strict=True)
        for difference in body_differences(resource.body, found.body)
    ]
    wanted = {(resource.type, resource.name.lower()) for resource in expected}
    differences += [
        f"{name}: held but not in the catalogue ({resource_type})"
        for resource_type in DELETE_ORDER
        for name in operations.names(resource_group, resource_type)
        if (resource_type, name.lower()) not in wanted
    ]
    if differences:
        raise AlertRulesDiffer(differences)
    return held


def body_differences(sent: Any, held: Any, path: str = "") -> list[str]:
    """Where `held` does not hold what `sent` says. Azure adds read-only properties (ignored), keeps keys and
    resource ids in any casing and may write a region as its display name; numbers compare by value."""
    if isinstance(sent, dict):
        if not isinstance(held, dict):
            return [f"{path or '.'}: sent an object, Azure holds {held!r}"]
        by_lower = {str(key).lower(): value for key, value in held.items()}
        return [
            difference
            for key, value in sent.items()
            for difference in body_differences(value, by_lower.get(key.lower()), f"{path}.{key}")
        ]
    if sent in ([], {}) and held in (None, [], {}):
        return []
    if isinstance(sent, list):
        if not isinstance(held, list) or len(held) != len(sent):
            return [f"{path}: sent {sent!r}, Azure holds {held!r}"]
        return [
            d for i, (s, h) in enumerate(zip(sent, held, strict=True)) for d in body_differences(s, h, f"{path}[{i}]")
        ]
    if _normalised(sent, path) == _normalised(held, path):
        return []
    return [f"{path}: sent {sent!r}, Azure holds {held!r}"]


def _normalised(value: Any, path: str) -> Any:
    if isinstance(value, str) and (value.startswith("/subscriptions/") or path.endswith(".location")):
        return value.replace(" ", "").lower()
    return value


def send_test_notification(
    clients: AzureClients,
    resource_group: str,
    action_group: str,
    progress: Progress,
    *,
    timeout_s: float,
) -> Any:
    """Ask Azure to notify every receiver of `action_group` with a test alert; the result once every action
    reports Succeeded (DeploymentError naming those that did not)."""
    from azure.mgmt.monitor.models import NotificationRequestBody

    groups = clients.monitor.action_groups
    with arm_operation(f"reading action group {action_group}"):
        group = groups.get(resource_group, action_group)
    request = NotificationRequestBody(
        alert_type=TEST_ALERT_TYPE,
        email_receivers=group.email_receivers or None,
        webhook_receivers=group.webhook_receivers or None,
    )
    step = f"test notification of action group {action_group}"
    with arm_operation(f"sending the {step}"):
        poller = groups.begin_create_notifications_at_action_group_resource_level(resource_group, action_group, request)
    result = progress.wait_for_poller(step, poller, timeout_s)
    failed = [
        f"{detail.mechanism_type} {detail.name}: {detail.status} ({detail.detail})"
        for detail in result.action_details or []
        if detail.status != "Succeeded"
    ]
    receivers = len(group.email_receivers or []) + len(group.webhook_receivers or [])
    if result.state != "Complete" or failed or len(result.action_details or []) != receivers:
        raise DeploymentError(f"{step}: state {result.state}, {receivers} receivers, failed: {failed or 'none'}")
    return result
