"""A rollout rehearsed on the emulator loses no request: while a client hammers the app's address, traffic moves
100/0 -> 50/50 -> 0/100 and the old revision is deactivated; every request is answered 200. Deleting the resource
group then leaves no resource, container or ingress listener. Needs a Docker engine and docker-registry.
"""

import collections
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from azure.mgmt.appcontainers import models as aca

from provisioning.waiting import wait_until

from .aca_requests import APP
from .conftest import ArmClients
from .test_container_app_revisions import docker_containers, move, running_app, second_revision  # noqa: F401

pytestmark = pytest.mark.emulator


@dataclass
class ClosedLoop:
    """One client sending requests back to back (keep-alive) and counting what came back."""

    address: str
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=f"http://{self.address}", timeout=10, trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    response = client.get("/health")
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")
                    continue
                if response.status_code != 200:
                    self.failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                self.answers[response.headers.get("x-ms-revision-name", "?")] += 1

    def stop(self) -> None:
        self._stop.set()

    @property
    def total(self) -> int:
        return sum(self.answers.values()) + len(self.failures)


@pytest.fixture
def hammer() -> Iterator[Callable[[str], ClosedLoop]]:
    started: list[tuple[ClosedLoop, threading.Thread]] = []

    def start(address: str) -> ClosedLoop:
        loop = ClosedLoop(address)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        started.append((loop, thread))
        return loop

    yield start
    for loop, thread in started:
        loop.stop()
        thread.join(30)


def test_traffic_moves_and_the_old_revision_is_deactivated_without_a_failed_request(
    clients: ArmClients,
    group: str,
    service_image: str,
    running_app: Callable[..., aca.ContainerApp],  # noqa: F811
    hammer: Callable[[str], ClosedLoop],
    record_testsuite_property: Callable[[str, object], None],
) -> None:
    app = running_app()
    probe = hammer(app.properties.configuration.ingress.fqdn)
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
    probe.stop()
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
