"""Fixtures for the emulator's own tests: real SDK clients pointed at it, fresh resource groups, the pushed image.

Every test leaves the emulators it used empty (reset after the test), so tests do not see each other's resources;
a test that proves cleanup asserts `assert_holds_nothing()` itself before that reset.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import pytest
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.applicationinsights import ApplicationInsightsManagementClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerinstance import ContainerInstanceManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.loganalytics import LogAnalyticsManagementClient
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

from harness.arm_emulator.client import ArmEmulator
from harness.stand_ins.registry import LocalRegistry
from service import __version__

LOCATION = "westeurope"
SERVICE_IMAGE = f"garch-mlops:{__version__}"
EMULATOR_FIXTURES = ("bare_arm_emulator", "arm_emulator")


@dataclass(frozen=True)
class ArmClients:
    """One real SDK management client per resource provider, all pointed at one emulator."""

    emulator: ArmEmulator
    resources: ResourceManagementClient
    registries: ContainerRegistryManagementClient
    log_analytics: LogAnalyticsManagementClient
    app_insights: ApplicationInsightsManagementClient
    monitor: MonitorManagementClient
    storage: StorageManagementClient
    authorization: AuthorizationManagementClient
    containers: ContainerInstanceManagementClient
    apps: ContainerAppsAPIClient

    @classmethod
    def for_emulator(cls, emulator: ArmEmulator, **overrides: Any) -> "ArmClients":
        def make(client_class: type) -> Any:
            return emulator.client(client_class, **overrides)

        return cls(
            emulator=emulator,
            resources=make(ResourceManagementClient),
            registries=make(ContainerRegistryManagementClient),
            log_analytics=make(LogAnalyticsManagementClient),
            app_insights=make(ApplicationInsightsManagementClient),
            monitor=make(MonitorManagementClient),
            storage=make(StorageManagementClient),
            authorization=make(AuthorizationManagementClient),
            containers=make(ContainerInstanceManagementClient),
            apps=make(ContainerAppsAPIClient),
        )


@pytest.fixture(autouse=True)
def _leave_the_emulators_empty(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in EMULATOR_FIXTURES:
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


@pytest.fixture(scope="session")
def bare_clients(bare_arm_emulator: ArmEmulator) -> ArmClients:
    return ArmClients.for_emulator(bare_arm_emulator)


@pytest.fixture(scope="session")
def clients(arm_emulator: ArmEmulator) -> ArmClients:
    return ArmClients.for_emulator(arm_emulator)


def new_group(clients: ArmClients, **tags: str) -> str:
    """A resource group with a random name, as the SDK's own tests make them."""
    name = f"rg-emulator-{uuid.uuid4().hex[:8]}"
    clients.resources.resource_groups.create_or_update(name, {"location": LOCATION, "tags": tags or None})
    return name


@pytest.fixture
def bare_group(bare_clients: ArmClients) -> str:
    return new_group(bare_clients)


@pytest.fixture
def group(clients: ArmClients) -> str:
    return new_group(clients)


@pytest.fixture(scope="session")
def local_service_image() -> str:
    """The service image in the local Docker engine (built where it is missing): what a deployment pushes."""
    client = docker.from_env()
    try:
        client.images.get(SERVICE_IMAGE)
    except docker.errors.ImageNotFound:
        from provisioning.environments.image import build_service_image

        build_service_image()
    finally:
        client.close()
    return SERVICE_IMAGE


@pytest.fixture(scope="session")
def service_image(local_registry: LocalRegistry, local_service_image: str) -> str:
    """The service image in the local registry, as a container group or a container app names it."""
    return local_registry.push(local_service_image)
