"""Broken revisions, injected through the emulator's fault rules, fail as Container Apps reports them and never
take a request: one whose container crashes on start (Failed, with the exit code and its last output), and one
that runs but never becomes ready (Unhealthy once its probes' deadline passes). The revision before keeps serving.
Needs a Docker engine and docker-registry.
"""

import time
from collections.abc import Callable

import pytest
from azure.mgmt.appcontainers import models as aca

from .aca_requests import APP, app_body, served_by, weights
from .conftest import ArmClients
from .test_container_app_revisions import revision_state, running_app, split  # noqa: F401

pytestmark = pytest.mark.emulator

CONTAINER_APPS = "Microsoft.App/containerApps"


def broken_v2(
    clients: ArmClients, group: str, first: Callable[..., aca.ContainerApp], image: str, failures: int
) -> aca.ContainerApp:
    entries = weights(v1=100, v2=0)
    entries[-1].label = "canary"
    body = app_body(
        first.environment.id,  # type: ignore[attr-defined]
        image,
        suffix="v2",
        registry=first.registry.login_server,  # type: ignore[attr-defined]
        traffic=entries,
        probe_failures=failures,
    )
    return clients.apps.container_apps.begin_create_or_update(group, APP, body).result()


def test_a_revision_whose_container_crashes_fails_with_its_exit_and_gets_no_traffic(
    clients: ArmClients,
    group: str,
    service_image: str,
    running_app: Callable[..., aca.ContainerApp],  # noqa: F811
) -> None:
    app = running_app()
    clients.emulator.inject("crash_on_start", method="PUT", type=CONTAINER_APPS, name=APP, exit_code=3)

    updated = broken_v2(clients, group, running_app, service_image, failures=10)

    assert updated.properties.latest_revision_name == f"{APP}--v2"
    assert updated.properties.latest_ready_revision_name == f"{APP}--v1"
    v2 = clients.apps.container_apps_revisions.get_revision(group, APP, f"{APP}--v2").properties
    assert (v2.provisioning_state, v2.running_state, v2.health_state) == ("Failed", "Failed", "Unhealthy")
    assert "exited with code 3" in v2.provisioning_error and "injected crash on start" in v2.provisioning_error
    assert v2.replicas == 0
    assert not any(f"{APP}--v2/" in (item["resourceId"] or "") for item in clients.emulator.containers())
    assert split(app.properties.configuration.ingress.fqdn, 20) == {f"{APP}--v1": 20}


def test_a_revision_that_never_becomes_ready_is_unhealthy_after_its_probes_deadline_and_gets_no_traffic(
    clients: ArmClients,
    group: str,
    service_image: str,
    running_app: Callable[..., aca.ContainerApp],  # noqa: F811
) -> None:
    app = running_app()
    domain = running_app.environment.properties.default_domain  # type: ignore[attr-defined]
    clients.emulator.inject("never_ready", method="PUT", type=CONTAINER_APPS, name=APP)

    started = time.monotonic()
    broken_v2(clients, group, running_app, service_image, failures=3)
    waited = time.monotonic() - started

    v2 = clients.apps.container_apps_revisions.get_revision(group, APP, f"{APP}--v2").properties
    assert (v2.provisioning_state, v2.running_state, v2.health_state) == ("Failed", "Failed", "Unhealthy")
    assert "did not become ready within 6 s" in v2.provisioning_error
    assert 6 <= waited < 60, "the revision was declared failed before (or long after) its probes' deadline"
    assert served_by(app.properties.configuration.ingress.fqdn) == (200, f"{APP}--v1")
    assert served_by(app.properties.configuration.ingress.fqdn, host=f"{APP}---canary.{domain}")[0] == 503
    assert served_by(v2.fqdn)[0] == 503
    assert revision_state(clients, group, "v1") == ("Provisioned", "Running", "Healthy", True)
