"""Container groups really run: the service image, pushed to the local registry, is pulled with the group's registry
credentials and started on the group's own loopback address, where /health answers; the instance view, the logs,
stop/start/restart, redeploys, crashes, failed operations and quota errors are what ACI reports; deleting the
resource group removes the containers. Needs a Docker engine and Debian's docker-registry.
"""

import time
from collections.abc import Callable
from typing import Any

import docker
import docker.errors
import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerinstance import models as aci

from harness.arm_emulator.client import ArmEmulator
from harness.arm_emulator.container_runtime import LABEL
from provisioning.waiting import wait_until

from .aci_requests import PORT, container_group, monitored_container_group, registry_credentials
from .conftest import LOCATION, SERVICE_IMAGE, ArmClients, new_group

pytestmark = pytest.mark.emulator

HEALTH_DEADLINE_S = 60.0
STATE_DEADLINE_S = 30.0
GROUP = "garch-api"


def reached(what: str, check: Callable[[], Any], deadline_s: float = STATE_DEADLINE_S) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` and the last value seen."""
    return wait_until(
        lambda: check() or None, what=what, where="the ARM emulator", timeout_s=deadline_s, interval_s=0.2,
        last_seen=lambda: repr(check()),
    )  # fmt: skip


def http_health(ip: str) -> int | None:
    try:
        return httpx.get(f"http://{ip}:{PORT}/health", timeout=2).status_code
    except httpx.HTTPError:
        return None


def docker_containers_of(emulator: ArmEmulator) -> list[str]:
    """Containers of this emulator as Docker itself lists them (not as the emulator reports them)."""
    client = docker.from_env()
    try:
        return [
            container.name
            for container in client.containers.list(all=True, filters={"label": f"{LABEL}={emulator.instance}"})
        ]
    finally:
        client.close()


def test_a_container_group_runs_the_pushed_image_on_its_own_loopback_address(
    clients: ArmClients, group: str, service_image: str, record_testsuite_property: Callable[[str, object], None]
) -> None:
    emulator = clients.emulator
    body = monitored_container_group(clients, group, service_image)

    started = time.monotonic()
    created = clients.containers.container_groups.begin_create_or_update(group, GROUP, body).result()
    provisioned_s = time.monotonic() - started
    ip = created.ip_address.ip
    reached(f"/health = 200 at http://{ip}:{PORT}", lambda: http_health(ip) == 200, HEALTH_DEADLINE_S)
    healthy_s = time.monotonic() - started
    record_testsuite_property("container_group_put_to_provisioned_s", round(provisioned_s, 2))
    record_testsuite_property("container_group_put_to_health_200_s", round(healthy_s, 2))

    assert created.provisioning_state == "Succeeded"
    assert ip.startswith("127.0.0.") and ip != "127.0.0.1"
    assert created.ip_address.fqdn == f"garch-api-ci.{LOCATION}.azurecontainer.io"
    assert httpx.get(f"http://{ip}:{PORT}/health").json()["status"] == "healthy"
    read = clients.containers.container_groups.get(group, GROUP)
    container = read.containers[0]
    assert read.instance_view.state == "Running"
    assert container.instance_view.current_state.state == "Running"
    assert [event.name for event in container.instance_view.events] == ["Pulling", "Pulled", "Started"]
    assert {variable.name: (variable.value, variable.secure_value) for variable in container.environment_variables} == {
        "WEB_CONCURRENCY": ("1", None),
        "API_KEY": (None, None),
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (None, None),
    }
    assert read.image_registry_credentials[0].password is None
    assert read.diagnostics.log_analytics.workspace_key is None
    logs = clients.containers.containers.list_logs(group, GROUP, "api", tail=50).content
    assert "/health" in logs
    assert [(item["resourceId"], item["ip"], item["status"]) for item in emulator.containers()] == [
        (read.id.lower(), ip, "running")
    ]

    clients.resources.resource_groups.begin_delete(group).result()

    assert http_health(ip) is None
    assert docker_containers_of(emulator) == []
    emulator.assert_holds_nothing()


def test_metric_alerts_on_a_container_group_are_checked_against_aci_metrics(
    clients: ArmClients, group: str, service_image: str
) -> None:
    credentials = registry_credentials(clients, group)
    created = clients.containers.container_groups.begin_create_or_update(
        group, GROUP, container_group(service_image, credentials)
    ).result()
    action_group = clients.monitor.action_groups.create_or_update(
        group, "garch-ops", {"location": "Global", "group_short_name": "garch-ops", "enabled": True}
    )

    def alert(metric: str, aggregation: str) -> dict[str, Any]:
        return {
            "location": "global",
            "severity": 2,
            "enabled": True,
            "scopes": [created.id],
            "evaluation_frequency": "PT1M",
            "window_size": "PT5M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [
                    {
                        "criterionType": "StaticThresholdCriterion",
                        "name": "cpu",
                        "metricName": metric,
                        "metricNamespace": "Microsoft.ContainerInstance/containerGroups",
                        "timeAggregation": aggregation,
                        "operator": "GreaterThan",
                        "threshold": 800,
                    }
                ],
            },
            "actions": [{"action_group_id": action_group.id}],
        }

    accepted = clients.monitor.metric_alerts.create_or_update(group, "cpu-high", alert("CpuUsage", "Average"))
    assert accepted.criteria.all_of[0].metric_name == "CpuUsage"
    for metric, aggregation, named in [
        ("CpuPercentage", "Average", "allOf[0].metricName"),
        ("CpuUsage", "Total", "allOf[0].timeAggregation"),
    ]:
        with pytest.raises(HttpResponseError) as refused:
            clients.monitor.metric_alerts.create_or_update(group, "cpu-bad", alert(metric, aggregation))
        assert refused.value.status_code == 400 and named in refused.value.message


def test_an_unchanged_redeploy_keeps_the_container_and_a_changed_one_replaces_it(
    clients: ArmClients, group: str, service_image: str
) -> None:
    emulator, groups = clients.emulator, clients.containers.container_groups
    credentials = registry_credentials(clients, group)
    first = groups.begin_create_or_update(
        group, GROUP, container_group(service_image, credentials, env={"VERSION": "a"})
    ).result()
    [before] = emulator.containers()

    groups.begin_create_or_update(
        group, GROUP, container_group(service_image, credentials, env={"VERSION": "a"})
    ).result()
    [unchanged] = emulator.containers()
    changed_group = groups.begin_create_or_update(
        group, GROUP, container_group(service_image, credentials, env={"VERSION": "b"})
    ).result()
    [changed] = emulator.containers()

    assert unchanged["id"] == before["id"]
    assert changed["id"] != before["id"]
    assert changed_group.ip_address.ip == first.ip_address.ip
    statuses = [
        entry["status"]
        for entry in emulator.requests(kind="resource")
        if entry["method"] == "PUT" and entry["name"] == GROUP
    ]
    assert statuses == [201, 200, 200]


def test_groups_of_one_name_in_two_resource_groups_run_side_by_side(
    clients: ArmClients, group: str, service_image: str
) -> None:
    """ACI names a group within its resource group only: the same name twice is two groups, two containers."""
    other = new_group(clients)
    groups, credentials = clients.containers.container_groups, registry_credentials(clients, group)
    created = []
    for name in (group, other):
        body = container_group(service_image, credentials)
        body.ip_address.dns_name_label = f"garch-api-{name[-8:]}"  # DNS labels are unique per region
        created.append(groups.begin_create_or_update(name, GROUP, body))
    first, second = (poller.result() for poller in created)
    assert first.ip_address.ip != second.ip_address.ip
    assert len(docker_containers_of(clients.emulator)) == 2
    for ip in (first.ip_address.ip, second.ip_address.ip):
        assert reached(f"/health 200 on {ip}", lambda ip=ip: http_health(ip) == 200, HEALTH_DEADLINE_S)


def test_stop_start_and_restart(clients: ArmClients, group: str, service_image: str) -> None:
    groups = clients.containers.container_groups
    credentials = registry_credentials(clients, group)
    groups.begin_create_or_update(group, GROUP, container_group(service_image, credentials)).result()

    groups.stop(group, GROUP)
    stopped = groups.get(group, GROUP)
    assert stopped.instance_view.state == "Stopped"
    assert stopped.containers[0].instance_view.current_state.state == "Terminated"

    groups.begin_start(group, GROUP).result()
    assert groups.get(group, GROUP).containers[0].instance_view.current_state.state == "Running"

    groups.begin_restart(group, GROUP).result()
    restarted = groups.get(group, GROUP)
    assert restarted.instance_view.state == "Running"
    assert [event.name for event in restarted.containers[0].instance_view.events].count("Killing") == 1


@pytest.mark.parametrize("restart_policy", ["Never", "Always"])
def test_a_container_that_crashes_on_start_is_reported_with_its_exit_code(
    clients: ArmClients, group: str, service_image: str, restart_policy: str
) -> None:
    emulator, groups = clients.emulator, clients.containers.container_groups
    credentials = registry_credentials(clients, group)
    emulator.inject("crash_on_start", method="PUT", type="Microsoft.ContainerInstance/containerGroups", exit_code=3)

    created = groups.begin_create_or_update(
        group, GROUP, container_group(service_image, credentials, restart_policy=restart_policy)
    ).result()
    assert created.provisioning_state == "Succeeded"  # ACI deploys the group; the container then fails

    def crashed() -> Any:
        view = groups.get(group, GROUP).containers[0].instance_view
        if restart_policy == "Never":
            return view if view.current_state.state == "Terminated" else None
        return view if view.restart_count >= 1 and view.previous_state is not None else None

    view = reached("the crash in the instance view", crashed)
    final = view.current_state if restart_policy == "Never" else view.previous_state
    assert (final.state, final.exit_code, final.detail_status) == ("Terminated", 3, "Error")
    if restart_policy == "Never":
        assert groups.get(group, GROUP).instance_view.state == "Failed"
    assert "injected crash on start" in clients.containers.containers.list_logs(group, GROUP, "api").content
    assert http_health(created.ip_address.ip) is None

    clients.resources.resource_groups.begin_delete(group).result()
    assert docker_containers_of(emulator) == []
    emulator.assert_holds_nothing()


def test_a_failed_deployment_raises_and_starts_nothing(clients: ArmClients, group: str, service_image: str) -> None:
    emulator, groups = clients.emulator, clients.containers.container_groups
    credentials = registry_credentials(clients, group)
    emulator.inject(
        "lro_failed",
        method="PUT",
        type="Microsoft.ContainerInstance/containerGroups",
        code="ContainerGroupDeploymentFailed",
    )

    with pytest.raises(HttpResponseError) as failed:
        groups.begin_create_or_update(group, GROUP, container_group(service_image, credentials)).result()

    assert failed.value.error.code == "ContainerGroupDeploymentFailed"
    assert groups.get(group, GROUP).provisioning_state == "Failed"
    assert emulator.containers() == []
    groups.begin_delete(group, GROUP).result()
    assert [item["type"] for item in emulator.resources()] == [
        "Microsoft.Resources/resourceGroups",
        "Microsoft.ContainerRegistry/registries",
    ]


def test_a_quota_error_stops_the_create(clients: ArmClients, group: str, service_image: str) -> None:
    emulator = clients.emulator
    credentials = registry_credentials(clients, group)
    emulator.inject("quota", method="PUT", type="Microsoft.ContainerInstance/containerGroups")

    with pytest.raises(HttpResponseError) as refused:
        clients.containers.container_groups.begin_create_or_update(
            group, GROUP, container_group(service_image, credentials)
        )

    assert (refused.value.status_code, refused.value.error.code) == (400, "ContainerGroupQuotaReached")
    assert emulator.containers() == []


@pytest.mark.parametrize(
    "problem", ["wrong password", "missing tag", "not in the local registry", "no registry resource"]
)
def test_an_image_aci_could_not_pull_is_refused(
    clients: ArmClients, group: str, service_image: str, problem: str
) -> None:
    credentials = None if problem == "no registry resource" else registry_credentials(clients, group)
    image = service_image
    if problem == "wrong password":
        credentials.password = "not-the-password"  # type: ignore[union-attr]
    elif problem == "missing tag":
        image = service_image.rsplit(":", 1)[0] + ":no-such-tag"
    elif problem == "not in the local registry":
        image = SERVICE_IMAGE
    elif problem == "no registry resource":
        credentials = aci.ImageRegistryCredential(
            server=service_image.split("/")[0], username="garchregistry", password="x"
        )

    with pytest.raises(HttpResponseError) as refused:
        clients.containers.container_groups.begin_create_or_update(group, GROUP, container_group(image, credentials))

    assert (refused.value.status_code, refused.value.error.code) == (400, "InaccessibleImage")
    assert f"The image '{image}' in container group '{GROUP}' is not accessible" in refused.value.message
