"""What Container Apps refuses, refused by the emulator with ARM's error shape (one case per rule), through the
real SDK: names, the environment, CPU/memory pairs, the ingress port, traffic weights, labels, revisions named in
traffic, secret references, registry identities, the environment's Log Analytics link, and metric alerts on an
app's metrics. None of these needs a container to run.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from .aca_requests import APP, app_body, make_environment
from .conftest import LOCATION, ArmClients

pytestmark = pytest.mark.emulator

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """An edit setting the value at a dotted path ("properties.template.containers.0.resources.cpu")."""

    def edit(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


CONTAINER = "properties.template.containers.0"
INGRESS = "properties.configuration.ingress"
MISSING_ENV = "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.App/managedEnvironments/nowhere"

CASES: list[tuple[str, str, Edit, int, str, str]] = [
    ("name-case", "Garch_API", lambda body: None, 400, "ContainerAppInvalidName", "lower case"),
    ("name-double-dash", "garch--api", lambda body: None, 400, "ContainerAppInvalidName", "'--'"),
    ("name-too-long", "a" * 33, lambda body: None, 400, "ContainerAppInvalidName", "32 characters"),
    ("environment", APP, _set("properties.managedEnvironmentId", MISSING_ENV), 404, "ManagedEnvironmentNotFound",
     "nowhere"),
    ("cpu-memory", APP, lambda body: (_set(f"{CONTAINER}.resources", {"cpu": 0.6, "memory": "1.5Gi"})(body)), 400,
     "ContainerAppInvalidResourceTotal", "(CPU: 0.6, memory: 1.5Gi) is invalid"),
    ("cpu-memory-mismatch", APP, _set(f"{CONTAINER}.resources", {"cpu": 0.5, "memory": "2Gi"}), 400,
     "ContainerAppInvalidResourceTotal", "[cpu: 0.5, memory: 1Gi]"),
    ("target-port", APP, _set(f"{INGRESS}.targetPort", 70000), 400, "InvalidRequestContent",
     "targetPort' must be at most 65535"),
    ("weights", APP, _set(f"{INGRESS}.traffic", [{"revisionName": f"{APP}--v1", "weight": 90}]), 400,
     "ContainerAppInvalidTrafficWeight", "add up to 90"),
    ("label-twice", APP, _set(f"{INGRESS}.traffic", [
        {"revisionName": f"{APP}--v1", "weight": 100, "label": "blue"},
        {"latestRevision": True, "weight": 0, "label": "blue"},
    ]), 400, "ContainerAppDuplicateTrafficLabel", "'blue'"),
    ("unknown-revision", APP, _set(f"{INGRESS}.traffic", [{"revisionName": f"{APP}--old", "weight": 100}]), 400,
     "ContainerAppRevisionNotFound", f"'{APP}--old'"),
    ("env-secret-ref", APP, _set(f"{CONTAINER}.env", [{"name": "API_KEY", "secretRef": "api-key"}]), 400,
     "ContainerAppSecretRefNotFound", "secret 'api-key' in env 'API_KEY'"),
    ("registry-secret-ref", APP, _set("properties.configuration.registries", [
        {"server": "garchregistry.azurecr.io", "username": "garch", "passwordSecretRef": "acr-password"},
    ]), 400, "ContainerAppSecretRefNotFound", "'acr-password'"),
    ("registry-identity", APP, lambda body: (body.pop("identity"), _set("properties.configuration.registries", [
        {"server": "garchregistry.azurecr.io", "identity": "system"}])(body)), 400,
     "ContainerAppRegistryIdentityNotFound", "no system-assigned identity"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "edit", "status", "code", "words"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_a_container_app_breaking_a_rule_is_refused_naming_it(
    clients: ArmClients, group: str, name: str, edit: Edit, status: int, code: str, words: str
) -> None:
    environment = make_environment(clients, group)
    body = app_body(environment.id, "example.azurecr.io/garch:1").as_dict()
    edit(body)
    if "{sub}" in body["properties"]["managedEnvironmentId"]:
        body["properties"]["managedEnvironmentId"] = MISSING_ENV.format(
            sub=clients.emulator.subscription_id, group=group
        )

    with pytest.raises(HttpResponseError) as refused:
        clients.apps.container_apps.begin_create_or_update(group, name, body)

    assert (refused.value.status_code, refused.value.error.code) == (status, code)
    assert words in refused.value.error.message
    assert list(clients.apps.container_apps.list_by_resource_group(group)) == []


def test_an_environment_must_name_an_existing_workspace_and_its_key_and_never_echoes_it(
    clients: ArmClients, group: str
) -> None:
    environment = make_environment(clients, group)
    assert environment.properties.provisioning_state == "Succeeded"
    assert environment.properties.app_logs_configuration.log_analytics_configuration.shared_key is None
    good = clients.apps.managed_environments.get(group, "garch-env").as_dict()
    logs = good["properties"]["appLogsConfiguration"]["logAnalyticsConfiguration"]

    for field, value, code in (
        ("customerId", "00000000-0000-0000-0000-000000000000", "ManagedEnvironmentInvalidLogAnalyticsCustomerId"),
        ("sharedKey", "bm90IHRoZSBrZXk=", "ManagedEnvironmentInvalidLogAnalyticsSharedKey"),
    ):
        config = {**copy.deepcopy(logs), "sharedKey": "x", field: value}
        logs_body = {"destination": "log-analytics", "logAnalyticsConfiguration": config}
        body = {"location": LOCATION, "properties": {"appLogsConfiguration": logs_body}}
        with pytest.raises(HttpResponseError) as refused:
            clients.apps.managed_environments.begin_create_or_update(group, "other-env", body)
        assert refused.value.error.code == code
    with pytest.raises(HttpResponseError) as bad_name:
        clients.apps.managed_environments.begin_create_or_update(group, "Env_1", {"location": LOCATION})
    assert bad_name.value.error.code == "ManagedEnvironmentInvalidName"


def test_metric_alerts_on_a_container_app_accept_its_metrics_and_refuse_others(clients: ArmClients, group: str) -> None:
    environment = make_environment(clients, group)
    body = app_body(environment.id, "example.azurecr.io/garch:1").as_dict()
    body["properties"]["configuration"]["ingress"] = None
    clients.emulator.inject("lro_failed", method="PUT", type="Microsoft.App/containerApps")
    with pytest.raises(HttpResponseError):  # the app stays (Failed): enough to be an alert's scope
        clients.apps.container_apps.begin_create_or_update(group, APP, body).result()
    app_id = clients.apps.container_apps.get(group, APP).id

    def alert(metric: str, aggregation: str = "Average") -> dict[str, Any]:
        criterion = {
            "criterionType": "StaticThresholdCriterion", "name": "c", "metricName": metric,
            "metricNamespace": "Microsoft.App/containerApps", "timeAggregation": aggregation,
            "operator": "GreaterThan", "threshold": 1,
        }  # fmt: skip
        return {
            "location": "global", "severity": 2, "enabled": True, "scopes": [app_id],
            "evaluation_frequency": "PT1M", "window_size": "PT5M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [criterion],
            },
        }  # fmt: skip

    accepted = (
        ("Requests", "Total"), ("RestartCount", "Total"), ("CpuPercentage", "Average"),
        ("WorkingSetBytes", "Average"), ("Replicas", "Maximum"), ("UsageNanoCores", "Average"),
    )  # fmt: skip
    for metric, aggregation in accepted:
        clients.monitor.metric_alerts.create_or_update(group, f"alert-{metric.lower()}", alert(metric, aggregation))
    with pytest.raises(HttpResponseError) as refused:
        clients.monitor.metric_alerts.create_or_update(group, "alert-cpu", alert("CpuUsage"))
    assert 'does not emit: "CpuUsage"' in refused.value.error.message
    assert "RxBytes" in refused.value.error.message
