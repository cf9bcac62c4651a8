"""Container apps really run: each revision's replicas are containers of the pushed image, the emulator's ingress
splits requests by traffic weight and serves labels, revisions are activated, deactivated and restarted as Azure
does them, and deleting the resource group leaves no container and no listener. Needs a Docker engine and
docker-registry.
"""

import collections
from collections.abc import Callable
from typing import Any

import docker
import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.appcontainers import models as aca

from harness.arm_emulator.client import ArmEmulator
from harness.arm_emulator.container_runtime import LABEL
from provisioning.waiting import wait_until

from .aca_requests import APP, app_body, grant_pull, make_environment, make_registry, served_by, weights
from .conftest import ArmClients

pytestmark = pytest.mark.emulator

REVISIONS = 200


def docker_containers(emulator: ArmEmulator) -> list[str]:
    """This emulator's containers as Docker itself lists them."""
    client = docker.from_env()
    try:
        found = client.containers.list(all=True, ignore_removed=True, filters={"label": f"{LABEL}={emulator.instance}"})
        return [container.name for container in found]
    finally:
        client.close()


def revision_state(clients: ArmClients, group: str, suffix: str) -> tuple[str, str, str, bool]:
    revision = clients.apps.container_apps_revisions.get_revision(group, APP, f"{APP}--{suffix}")
    props = revision.properties
    return props.provisioning_state, props.running_state, props.health_state, props.active


def deploy(clients: ArmClients, group: str, body: aca.ContainerApp) -> aca.ContainerApp:
    return clients.apps.container_apps.begin_create_or_update(group, APP, body).result()


def split(address: str, count: int = REVISIONS, **request: Any) -> collections.Counter[str | None]:
    answers = [served_by(address, **request) for _ in range(count)]
    assert {status for status, _ in answers} == {200}, answers[:5]
    return collections.Counter(revision for _, revision in answers)


@pytest.fixture
def running_app(clients: ArmClients, group: str, service_image: str) -> Callable[..., aca.ContainerApp]:
    """Deploy the first revision (v1) of the app, pulling with its identity once AcrPull is granted."""
    environment = make_environment(clients, group)
    registry = make_registry(clients, group)

    def first(**options: Any) -> aca.ContainerApp:
        body = app_body(environment.id, service_image, registry=registry.login_server, **options)
        created = deploy(clients, group, body)
        if created.properties.latest_ready_revision_name is None:  # the identity exists only now: grant, restart
            grant_pull(clients, registry.id, created.identity.principal_id)
            clients.apps.container_apps_revisions.restart_revision(group, APP, f"{APP}--v1")
            wait_until(lambda: revision_state(clients, group, "v1")[2] == "Healthy", what="v1 healthy", timeout_s=120)
        return clients.apps.container_apps.get(group, APP)

    first.environment = environment  # type: ignore[attr-defined]
    first.registry = registry  # type: ignore[attr-defined]
    return first


def test_the_first_revision_fails_to_pull_until_the_identity_has_acr_pull_then_serves_through_the_app_fqdn(
    clients: ArmClients, group: str, service_image: str
) -> None:
    environment = make_environment(clients, group)
    registry = make_registry(clients, group)
    body = app_body(environment.id, service_image, registry=registry.login_server)

    created = deploy(clients, group, body)

    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.latest_revision_name == f"{APP}--v1"
    assert created.properties.latest_ready_revision_name is None
    failed = clients.apps.container_apps_revisions.get_revision(group, APP, f"{APP}--v1").properties
    assert (failed.provisioning_state, failed.running_state, failed.health_state) == ("Failed", "Failed", "Unhealthy")
    assert "UNAUTHORIZED" in failed.provisioning_error and "AcrPull" in failed.provisioning_error
    assert created.identity.principal_id in failed.provisioning_error

    grant_pull(clients, registry.id, created.identity.principal_id)
    clients.apps.container_apps_revisions.restart_revision(group, APP, f"{APP}--v1")
    wait_until(lambda: revision_state(clients, group, "v1")[2] == "Healthy", what="v1 healthy", timeout_s=120)

    app = clients.apps.container_apps.get(group, APP)
    fqdn = app.properties.configuration.ingress.fqdn
    assert fqdn.startswith("127.0.0.") and fqdn.endswith(":8001")
    assert app.properties.latest_ready_revision_name == f"{APP}--v1"
    assert app.properties.latest_revision_fqdn != fqdn
    assert served_by(fqdn) == (200, f"{APP}--v1")
    assert served_by(app.properties.latest_revision_fqdn) == (200, f"{APP}--v1")
    assert environment.properties.default_domain.endswith(".westeurope.azurecontainerapps.io")
    assert app.properties.configuration.ingress.traffic[0].latest_revision is True
    replicas = clients.apps.container_apps_revision_replicas.list_replicas(group, APP, f"{APP}--v1").value
    assert len(replicas) == 1 and replicas[0].properties.running_state == "Running"
    assert replicas[0].properties.containers[0].ready is True


def second_revision(
    clients: ArmClients, group: str, first: Callable[..., aca.ContainerApp], service_image: str, **traffic: int
) -> aca.ContainerApp:
    """v2 of the app (another env value), at the given weights by suffix, labelled `canary`."""
    entries = weights(**traffic)
    entries[-1].label = "canary"
    body = app_body(
        first.environment.id,  # type: ignore[attr-defined]
        service_image,
        suffix="v2",
        registry=first.registry.login_server,  # type: ignore[attr-defined]
        env=[
            aca.EnvironmentVar(name="WEB_CONCURRENCY", value="1"),
            aca.EnvironmentVar(name="LOG_LEVEL", value="warning"),
        ],
        traffic=entries,
    )
    return deploy(clients, group, body)


def move(clients: ArmClients, group: str, **traffic: int) -> None:
    """Move traffic with a PATCH of the ingress's traffic only, as a rollout step does."""
    patch = {
        "properties": {"configuration": {"ingress": {"traffic": [entry.as_dict() for entry in weights(**traffic)]}}}
    }
    clients.apps.container_apps.begin_update(group, APP, patch).result()


def test_a_second_revision_starts_at_zero_then_takes_half_the_requests_and_serves_its_label(
    clients: ArmClients, group: str, service_image: str, running_app: Callable[..., aca.ContainerApp]
) -> None:
    app = running_app()
    fqdn = app.properties.configuration.ingress.fqdn
    domain = running_app.environment.properties.default_domain  # type: ignore[attr-defined]

    updated = second_revision(clients, group, running_app, service_image, v1=100, v2=0)

    assert updated.properties.latest_revision_name == f"{APP}--v2"
    assert updated.properties.latest_ready_revision_name == f"{APP}--v2"
    assert split(fqdn, 50) == {f"{APP}--v1": 50}
    assert split(fqdn, 20, host=f"{APP}---canary.{domain}") == {f"{APP}--v2": 20}
    v2 = clients.apps.container_apps_revisions.get_revision(group, APP, f"{APP}--v2").properties
    assert (v2.traffic_weight, v2.active, v2.replicas) == (0, True, 1)
    assert served_by(v2.fqdn) == (200, f"{APP}--v2")

    move(clients, group, v1=50, v2=50)

    assert split(fqdn) == {f"{APP}--v1": REVISIONS // 2, f"{APP}--v2": REVISIONS // 2}
    listed = {
        revision.name: revision.properties.traffic_weight
        for revision in clients.apps.container_apps_revisions.list_revisions(group, APP)
    }
    assert listed == {f"{APP}--v1": 50, f"{APP}--v2": 50}


def test_deactivating_a_revision_with_traffic_is_refused_and_activate_restart_work(
    clients: ArmClients, group: str, service_image: str, running_app: Callable[..., aca.ContainerApp]
) -> None:
    app = running_app()
    fqdn = app.properties.configuration.ingress.fqdn
    second_revision(clients, group, running_app, service_image, v1=100, v2=0)
    revisions = clients.apps.container_apps_revisions

    with pytest.raises(HttpResponseError) as refused:
        revisions.deactivate_revision(group, APP, f"{APP}--v1")
    assert refused.value.status_code == 400 and "traffic weight 100%" in refused.value.message

    revisions.deactivate_revision(group, APP, f"{APP}--v2")
    assert revision_state(clients, group, "v2")[1:] == ("Stopped", "None", False)
    wait_until(
        lambda: not any(f"{APP}--v2" in (item["resourceId"] or "") for item in clients.emulator.containers()),
        what="v2's containers removed", timeout_s=30,
    )  # fmt: skip
    with pytest.raises(HttpResponseError) as inactive:
        revisions.restart_revision(group, APP, f"{APP}--v2")
    assert inactive.value.status_code == 400

    revisions.activate_revision(group, APP, f"{APP}--v2")
    wait_until(lambda: revision_state(clients, group, "v2")[2] == "Healthy", what="v2 healthy again", timeout_s=120)
    before = {replica.name for replica in revisions_replicas(clients, group, "v1")}
    revisions.restart_revision(group, APP, f"{APP}--v1")
    wait_until(
        lambda: {replica.name for replica in revisions_replicas(clients, group, "v1")}.isdisjoint(before) or None,
        what="v1's replicas replaced", timeout_s=120,
    )  # fmt: skip
    assert split(fqdn, 20) == {f"{APP}--v1": 20}


def revisions_replicas(clients: ArmClients, group: str, suffix: str) -> list[aca.Replica]:
    return list(clients.apps.container_apps_revision_replicas.list_replicas(group, APP, f"{APP}--{suffix}").value)


def test_in_single_mode_a_new_revision_takes_all_traffic_once_ready_and_the_old_one_is_deactivated(
    clients: ArmClients, group: str, service_image: str, running_app: Callable[..., aca.ContainerApp]
) -> None:
    app = running_app(mode="Single")
    fqdn = app.properties.configuration.ingress.fqdn

    body = app_body(
        running_app.environment.id,  # type: ignore[attr-defined]
        service_image,
        mode="Single",
        suffix=None,
        registry=running_app.registry.login_server,  # type: ignore[attr-defined]
        env=[aca.EnvironmentVar(name="WEB_CONCURRENCY", value="1"), aca.EnvironmentVar(name="LOG_LEVEL", value="info")],
    )
    updated = deploy(clients, group, body)

    new = updated.properties.latest_revision_name
    assert new.startswith(f"{APP}--") and len(new) == len(APP) + 2 + 7 and new != f"{APP}--v1"
    assert updated.properties.latest_ready_revision_name == new
    wait_until(lambda: revision_state(clients, group, "v1")[3] is False or None, what="v1 deactivated", timeout_s=30)
    assert split(fqdn, 20) == {new: 20}
    assert [entry.as_dict() for entry in updated.properties.configuration.ingress.traffic] == [
        {"latestRevision": True, "weight": 100}
    ]


def test_a_stopped_app_answers_that_it_is_stopped_keeps_its_revisions_and_serves_again_once_started(
    clients: ArmClients, group: str, running_app: Callable[..., aca.ContainerApp]
) -> None:
    emulator = clients.emulator
    app = running_app()
    fqdn = app.properties.configuration.ingress.fqdn
    assert served_by(fqdn) == (200, f"{APP}--v1")

    clients.apps.container_apps.begin_stop(group, APP).result()

    stopped = clients.apps.container_apps.get(group, APP)
    assert stopped.properties.running_status == "Stopped"
    assert served_by(fqdn)[0] == 404, "a stopped app is answered as stopped by the ingress, not served"
    wait_until(lambda: docker_containers(emulator) == [], what="the stopped app's replicas to go", timeout_s=60)
    assert revision_state(clients, group, "v1")[3] is True, "stopping an app keeps its revisions active"

    clients.apps.container_apps.begin_start(group, APP).result()

    assert clients.apps.container_apps.get(group, APP).properties.running_status == "Running"
    assert served_by(fqdn) == (200, f"{APP}--v1")
    assert len(docker_containers(emulator)) == 1
