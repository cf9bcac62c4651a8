"""A rollout rehearsed on the emulator loses no request: while a client hammers the app's address, traffic moves
100/0 -> 50/50 -> 0/100 and the old revision is deactivated; every request is answered 200. Deleting the resource
group then leaves no resource, container or ingress listener. Needs a Docker engine and docker-registry.
"""

from collections.abc import Callable

import httpx
import pytest
from azure.mgmt.appcontainers import models as aca

from harness.traffic_probe import running_probe
from provisioning.waiting import wait_until

from .aca_requests import APP
from .conftest import ArmClients
from .test_container_app_revisions import docker_containers, move, running_app, second_revision  # noqa: F401

pytestmark = pytest.mark.emulator


def test_traffic_moves_and_the_old_revision_is_deactivated_without_a_failed_request(
    clients: ArmClients,
    group: str,
    service_image: str,
    running_app: Callable[..., aca.ContainerApp],  # noqa: F811
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    app = running_app()
    with running_probe(f"http://{app.properties.configuration.ingress.fqdn}") as probe:
        second_revision(clients, group, running_app, service_image, v1=100, v2=0)
        seen = probe.total

        move(clients, group, v1=50, v2=50)
        wait_until(lambda: probe.answers[f"{APP}--v2"] >= 20 or None, what="v2 answering", timeout_s=30)
        move(clients, group, v1=0, v2=100)
        clients.apps.container_apps_revisions.deactivate_revision(group, APP, f"{APP}--v1")
        wait_until(
            lambda: not any(f"{APP}--v1/" in (item["resourceId"] or "") for item in clients.emulator.containers()),
            what="v1's containers removed", timeout_s=60,
        )  # fmt: skip
        after = probe.total
        wait_until(lambda: probe.total >= after + 20 or None, what="requests after v1 is gone", timeout_s=30)
    record_testsuite_property("container_app_rollout_requests", probe.total)
    record_testsuite_property("container_app_rollout_failures", len(probe.failures))

    assert probe.failures == [], f"{len(probe.failures)} of {probe.total} requests failed: {probe.failures[:5]}"
    # The probe ran through every phase: v1 before the move, v2 at 50/50 and again once v1 was gone.
    assert probe.answers[f"{APP}--v1"] >= seen > 0 and probe.answers[f"{APP}--v2"] >= 40, probe.answers
    assert set(probe.answers) == {f"{APP}--v1", f"{APP}--v2"}


def test_deleting_the_resource_group_leaves_no_container_and_no_listener(
    clients: ArmClients,
    group: str,
    service_image: str,
    running_app: Callable[..., aca.ContainerApp],  # noqa: F811
) -> None:
    app = running_app()
    second_revision(clients, group, running_app, service_image, v1=50, v2=50)
    fqdn = app.properties.configuration.ingress.fqdn
    assert len(clients.emulator.listeners()) == 3  # the app's and each revision's
    assert len(docker_containers(clients.emulator)) == 2

    clients.resources.resource_groups.begin_delete(group).result()

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{fqdn}/health", timeout=2, trust_env=False)
    assert docker_containers(clients.emulator) == []
    clients.emulator.assert_holds_nothing()
