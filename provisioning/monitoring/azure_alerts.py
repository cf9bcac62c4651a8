"""The alert catalogue as Azure Monitor resources: the ARM request bodies, ready to PUT, with their ids.

Plain data, no SDK calls, so what goes to Azure is checked offline and sent later by whoever holds a credential.
Where Azure has no metric for a catalogue signal, the rule uses the telemetry that does carry it:
- health: an Application Insights standard web test and an availability alert (a failing check emits no ACI metric);
- cpu, memory: metric alerts on the workload, in its metric's unit, so the catalogue's percent of the limit becomes
  an absolute threshold from the configured size: on ACI `CpuUsage` (millicores summed over cores) and
  `MemoryUsage` (bytes); on Container Apps `UsageNanoCores` (10^9 per core) and `WorkingSetBytes` (bytes);
- error ratios, p95 latency: log alerts over Application Insights request telemetry. No platform metric carries a
  ratio or a percentile: Container Apps' `Requests` split by `statusCodeCategory` counts 5xx answers, but a metric
  alert compares one series with a static threshold, so "5% of requests" cannot be said with it, on either target.
"""

from dataclasses import dataclass
from typing import Any

from provisioning.config import MonitoringSection, NotificationsSection
from provisioning.monitoring.catalogue import AlertRule, Channel, ServiceLimits
from service.traffic import SYNTHETIC, TRAFFIC_LABEL

METRIC_ALERTS_API = "2018-03-01"
ACTION_GROUPS_API = "2023-01-01"
SCHEDULED_QUERY_RULES_API = "2023-12-01"
WEB_TESTS_API = "2022-06-15"
ACI_NAMESPACE = "Microsoft.ContainerInstance/containerGroups"
ACI_METRIC = {"cpu": "CpuUsage", "memory": "MemoryUsage"}
ACA_NAMESPACE = "Microsoft.App/containerApps"
ACA_METRIC = {"cpu": "UsageNanoCores", "memory": "WorkingSetBytes"}
METRICS = {ACI_NAMESPACE: ACI_METRIC, ACA_NAMESPACE: ACA_METRIC}
CPU_UNITS_PER_CORE = {ACI_NAMESPACE: 1000, ACA_NAMESPACE: 1_000_000_000}
"""CpuUsage is in millicores, UsageNanoCores in nanocores."""
WEB_TEST_FREQUENCIES_S = (300, 600, 900)
WEB_TEST_TIMEOUT_S = 30
API_REQUESTS = (
    'requests\n| where name !endswith "/health" and name !endswith "/metrics"\n'
    f'| where tostring(customDimensions["{TRAFFIC_LABEL}"]) != "{SYNTHETIC}"'
)
"""Application Insights requests that are API use: probes, scrapes and synthetic traffic (a verification run's
requests, which the service tags with the span attribute `traffic`, service/telemetry.py) left out, as in the
Prometheus rules. A log alert can filter on a custom dimension; a metric alert could not."""


@dataclass(frozen=True)
class AzureScope:
    """Where the deployment lives: the resource ids every rule is scoped to are built from this."""

    subscription_id: str
    resource_group: str
    location: str
    container_group: str
    app_insights: str
    namespace: str = ACI_NAMESPACE
    """The workload's resource type: an ACI container group, or a container app of the same name."""

    def resource_id(self, resource_type: str, name: str) -> str:
        group = f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
        return f"{group}/providers/{resource_type}/{name}"

    @property
    def container_group_id(self) -> str:
        """The workload the metric alerts are scoped to (a container group, or a container app)."""
        return self.resource_id(self.namespace, self.container_group)

    @property
    def app_insights_id(self) -> str:
        return self.resource_id("Microsoft.Insights/components", self.app_insights)

    def insights_id(self, kind: str, name: str) -> str:
        return self.resource_id(f"Microsoft.Insights/{kind}", name)


@dataclass(frozen=True)
class AzureResource:
    """One ARM PUT: the resource id, the api-version it is written for, and the body."""

    id: str
    api_version: str
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[1]

    @property
    def type(self) -> str:
        return self.id.split("/providers/", 1)[1].rsplit("/", 1)[0]


def configured_channels(notifications: NotificationsSection) -> frozenset[Channel]:
    """The channels that have receivers: email addresses, a webhook URL."""
    channels: set[Channel] = set()
    if notifications.email:
        channels.add("email")
    if notifications.webhook_url:
        channels.add("webhook")
    return frozenset(channels)


def notified_channels(rule: AlertRule, notifications: NotificationsSection) -> tuple[Channel, ...]:
    """The rule's channels that can reach someone; a channel without receivers is left out, not refused."""
    configured = configured_channels(notifications)
    return tuple(channel for channel in rule.channels if channel in configured)


def notification_notes(monitoring: MonitoringSection) -> list[str]:
    """What the deployed rules will not notify, for whoever deploys them: one line per missing channel."""
    notes = []
    keys = {
        "email": "monitoring.notifications.email is empty",
        "webhook": "monitoring.notifications.webhook_url is unset",
    }
    for channel in sorted({channel for rule in monitoring.alerts for channel in rule.channels}):
        if channel not in configured_channels(monitoring.notifications):
            rules = [rule.name for rule in monitoring.alerts if channel in rule.channels]
            notes.append(f"{keys[channel]}: {', '.join(rules)} will not notify by {channel}")
    silent = [rule.name for rule in monitoring.alerts if not notified_channels(rule, monitoring.notifications)]
    if silent:
        notes.append(f"{', '.join(silent)} notify no one: they fire in Azure Monitor's alert list only")
    return notes


def action_group_name(notifications: NotificationsSection, channels: tuple[Channel, ...], all_sets: int) -> str:
    """The configured name when every rule shares one channel set (the usual case), else one group per set."""
    return notifications.action_group if all_sets == 1 else f"{notifications.action_group}-{'-'.join(channels)}"


def render_action_group(
    scope: AzureScope, notifications: NotificationsSection, channels: tuple[Channel, ...], name: str
) -> AzureResource:
    """The receivers of `channels` (each one configured), all with the common alert schema."""
    properties: dict[str, Any] = {
        "groupShortName": notifications.action_group_short_name,
        "enabled": True,
        "emailReceivers": [],
        "webhookReceivers": [],
    }
    if "email" in channels:
        properties["emailReceivers"] = [
            {"name": f"email-{index}", "emailAddress": address, "useCommonAlertSchema": True}
            for index, address in enumerate(notifications.email, start=1)
        ]
    if "webhook" in channels and notifications.webhook_url:
        properties["webhookReceivers"] = [
            {"name": "webhook", "serviceUri": notifications.webhook_url, "useCommonAlertSchema": True}
        ]
    return AzureResource(
        scope.insights_id("actionGroups", name), ACTION_GROUPS_API, {"location": "Global", "properties": properties}
    )


def web_test_frequency_s(monitoring: MonitoringSection) -> int:
    """The shortest web test frequency Azure allows that is not shorter than the configured check interval."""
    allowed = [f for f in WEB_TEST_FREQUENCIES_S if f >= monitoring.health_check_interval_s]
    return allowed[0] if allowed else WEB_TEST_FREQUENCIES_S[-1]


def render_web_test(
    scope: AzureScope, rule: AlertRule, monitoring: MonitoringSection, health_url: str
) -> AzureResource:
    """A standard web test of /health from every configured location; no retries, a failed check counts as one."""
    name = f"{rule.name.lower()}-webtest"
    return AzureResource(
        scope.insights_id("webtests", name),
        WEB_TESTS_API,
        {
            "location": scope.location,
            "kind": "standard",
            "tags": {f"hidden-link:{scope.app_insights_id}": "Resource"},
            "properties": {
                "SyntheticMonitorId": name,
                "Name": name,
                "Description": rule.description,
                "Enabled": True,
                "Frequency": web_test_frequency_s(monitoring),
                "Timeout": WEB_TEST_TIMEOUT_S,
                "Kind": "standard",
                "RetryEnabled": False,
                "Locations": [{"Id": location} for location in monitoring.web_test_locations],
                "Request": {"RequestUrl": health_url, "HttpVerb": "GET", "ParseDependentRequests": False},
                "ValidationRules": {"ExpectedHttpStatusCode": 200, "SSLCheck": False},
            },
        },
    )


def _metric_alert(
    scope: AzureScope, rule: AlertRule, scopes: list[str], criteria: dict[str, Any], action_group_id: str | None
) -> AzureResource:
    return AzureResource(
        scope.insights_id("metricAlerts", rule.name),
        METRIC_ALERTS_API,
        {
            "location": "global",
            "properties": {
                "description": rule.description,
                "severity": rule.severity,
                "enabled": True,
                "scopes": scopes,
                "evaluationFrequency": rule.frequency,
                "windowSize": rule.window,
                "criteria": criteria,
                "autoMitigate": True,
                "actions": [{"actionGroupId": action_group_id, "webHookProperties": {}}] if action_group_id else [],
            },
        },
    )


def aci_threshold(rule: AlertRule, limits: ServiceLimits) -> float:
    """The catalogue's percent of the limit in the ACI metric's unit: millicores (CpuUsage) or bytes (MemoryUsage)."""
    return metric_threshold(rule, limits, ACI_NAMESPACE)


def metric_threshold(rule: AlertRule, limits: ServiceLimits, namespace: str) -> float:
    """The catalogue's percent of the limit in the workload metric's unit: CPU in the namespace's fraction of a
    core (millicores on ACI, nanocores on Container Apps), memory in bytes."""
    fraction = rule.threshold.value / 100
    if rule.signal == "cpu":
        return round(fraction * limits.cpu_cores * CPU_UNITS_PER_CORE[namespace], 3)
    return float(int(fraction * limits.memory_bytes))


def log_query(rule: AlertRule) -> tuple[str, str, list[dict[str, Any]]]:
    """The KQL of a request-telemetry rule, the column it measures, and the dimensions it splits by."""
    if rule.signal == "latency_p95":
        query = f"{API_REQUESTS}\n| summarize p95_ms = percentile(duration, 95) by route = name"
        return query, "p95_ms", [{"name": "route", "operator": "Include", "values": ["*"]}]
    low = 500 if rule.signal == "server_error_ratio" else 400
    query = (
        f"{API_REQUESTS}\n"
        f"| summarize total = count(), failed = countif(toint(resultCode) between ({low} .. {low + 99}))\n"
        "| where total > 0\n"
        "| extend ratio_percent = 100.0 * failed / total"
    )
    return query, "ratio_percent", []


def render_log_alert(scope: AzureScope, rule: AlertRule, action_group_id: str | None) -> AzureResource:
    query, column, dimensions = log_query(rule)
    return AzureResource(
        scope.insights_id("scheduledQueryRules", rule.name),
        SCHEDULED_QUERY_RULES_API,
        {
            "location": scope.location,
            "kind": "LogAlert",
            "properties": {
                "displayName": rule.name,
                "description": rule.description,
                "severity": rule.severity,
                "enabled": True,
                "scopes": [scope.app_insights_id],
                "evaluationFrequency": rule.frequency,
                "windowSize": rule.window,
                "criteria": {
                    "allOf": [
                        {
                            "query": query,
                            "timeAggregation": "Maximum",
                            "metricMeasureColumn": column,
                            "dimensions": dimensions,
                            "operator": rule.operator,
                            "threshold": rule.threshold.value,
                            "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1},
                        }
                    ]
                },
                "autoMitigate": True,
                "actions": {"actionGroups": [action_group_id] if action_group_id else []},
            },
        },
    )


def render_rule(
    scope: AzureScope,
    rule: AlertRule,
    *,
    limits: ServiceLimits,
    monitoring: MonitoringSection,
    health_url: str,
    action_group_id: str | None,
) -> list[AzureResource]:
    """The resources one catalogue entry needs, in creation order (a web test before its availability alert);
    without an action group the rules still evaluate and fire, they notify no one."""
    if rule.signal == "health":
        web_test = render_web_test(scope, rule, monitoring, health_url)
        criteria = {
            "odata.type": "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria",
            "webTestId": web_test.id,
            "componentId": scope.app_insights_id,
            "failedLocationCount": int(rule.threshold.value),
        }
        return [web_test, _metric_alert(scope, rule, [web_test.id, scope.app_insights_id], criteria, action_group_id)]
    metrics = METRICS[scope.namespace]
    if rule.signal in metrics:
        criteria = {
            "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
            "allOf": [
                {
                    "criterionType": "StaticThresholdCriterion",
                    "name": metrics[rule.signal],
                    "metricName": metrics[rule.signal],
                    "metricNamespace": scope.namespace,
                    "operator": rule.operator,
                    "threshold": metric_threshold(rule, limits, scope.namespace),
                    "timeAggregation": "Average",
                    "dimensions": [],
                }
            ],
        }
        return [_metric_alert(scope, rule, [scope.container_group_id], criteria, action_group_id)]
    return [render_log_alert(scope, rule, action_group_id)]


def render_azure_monitor(
    scope: AzureScope, monitoring: MonitoringSection, limits: ServiceLimits, health_url: str
) -> list[AzureResource]:
    """Every resource of the catalogue on Azure, action groups first: PUT them in this order.

    A rule notifies the channels of its own that have receivers (see `notification_notes` for what that leaves out);
    one action group per distinct set of those, none when no channel is configured.
    """
    notifications = monitoring.notifications
    channel_sets = sorted({notified_channels(rule, notifications) for rule in monitoring.alerts} - {()})
    groups = {
        channels: render_action_group(
            scope, notifications, channels, action_group_name(notifications, channels, len(channel_sets))
        )
        for channels in channel_sets
    }
    resources = list(groups.values())
    for rule in monitoring.alerts:
        group = groups.get(notified_channels(rule, notifications))
        resources += render_rule(
            scope,
            rule,
            limits=limits,
            monitoring=monitoring,
            health_url=health_url,
            action_group_id=group.id if group else None,
        )
    return resources
