"""The emulator speaks ARM to the real SDK management clients: api-versions, tokens and subscriptions, the request
log, PATCH, and ACI's checks of a container group request before anything runs.

These need the emulator process but no Docker and no registry (an emulator without a login server), so they are
`unit` tests; container groups, which really run, are in test_container_groups.py.
"""

import uuid
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from harness.arm_emulator.client import ArmEmulator
from provisioning.environments.azure.credentials import StaticTokenCredential

from .conftest import LOCATION, ArmClients
from .sdk_resources import make_workspace

pytestmark = pytest.mark.unit


class TestProtocol:
    def test_only_the_api_versions_the_sdks_send_are_accepted(self, bare_clients: ArmClients, bare_group: str) -> None:
        old_resources_client = bare_clients.emulator.client(ResourceManagementClient, api_version="2019-10-01")
        with pytest.raises(HttpResponseError) as refused:
            old_resources_client.resource_groups.get(bare_group)
        assert (refused.value.status_code, refused.value.error.code) == (400, "InvalidApiVersionParameter")
        old_registry_client = bare_clients.emulator.client(ContainerRegistryManagementClient, api_version="2019-05-01")
        with pytest.raises(HttpResponseError) as refused:
            old_registry_client.registries.get(bare_group, "garchregistry")
        assert refused.value.error.code == "NoRegisteredProviderFound"
        assert "The supported api-versions are '2025-11-01'" in refused.value.message

    def test_a_wrong_token_or_subscription_is_refused(self, bare_arm_emulator: ArmEmulator) -> None:
        intruder = ResourceManagementClient(
            StaticTokenCredential("not-the-token"),
            bare_arm_emulator.subscription_id,
            **bare_arm_emulator.client_kwargs(),
        )
        with pytest.raises(ClientAuthenticationError) as refused:
            intruder.resource_groups.get("rg")
        assert refused.value.error.code == "InvalidAuthenticationToken"
        elsewhere = ResourceManagementClient(
            bare_arm_emulator.credential(), str(uuid.uuid4()), **bare_arm_emulator.client_kwargs()
        )
        with pytest.raises(ResourceNotFoundError) as missing:
            elsewhere.resource_groups.get("rg")
        assert missing.value.error.code == "SubscriptionNotFound"

    def test_the_request_log_lists_method_type_and_api_version(self, bare_clients: ArmClients, bare_group: str) -> None:
        make_workspace(bare_clients, bare_group)
        assert (
            "PUT",
            "Microsoft.OperationalInsights/workspaces",
            "2025-07-01",
            201,
        ) in bare_clients.emulator.arm_calls()
        polls = bare_clients.emulator.requests(kind="poll")
        assert [poll["status"] for poll in polls] == [200, 200]
        assert all(poll["resource_type"] == "Microsoft.OperationalInsights/workspaces" for poll in polls)

    def test_patch_updates_tags(self, bare_clients: ArmClients, bare_group: str) -> None:
        updated = bare_clients.resources.resource_groups.update(
            bare_group, {"tags": {"DeleteAfter": "2030-01-01T00:00:00Z"}}
        )
        assert updated.tags == {"DeleteAfter": "2030-01-01T00:00:00Z"}


class TestContainerGroupRequests:
    """ACI's request checks happen before anything runs, so they need no Docker (an emulator without a registry
    then refuses every image, as ACI refuses an image it cannot pull)."""

    @staticmethod
    def body() -> dict[str, Any]:
        return {
            "location": LOCATION,
            "os_type": "Linux",
            "restart_policy": "Always",
            "containers": [
                {
                    "name": "api",
                    "image": "127.0.0.1:5000/garch-mlops:0.1.0",
                    "resources": {"requests": {"cpu": 1.0, "memory_in_gb": 1.5}},
                    "ports": [{"port": 8001}],
                    "environment_variables": [{"name": "API_KEY", "secure_value": "s3cret"}],
                }
            ],
            "ip_address": {"type": "Public", "ports": [{"port": 8001}], "dns_name_label": "garch-api"},
        }

    @staticmethod
    def container(body: dict[str, Any]) -> dict[str, Any]:
        container: dict[str, Any] = body["containers"][0]
        return container

    @pytest.mark.parametrize(
        ("breaks", "code", "named"),
        [
            (lambda body: body.pop("os_type"), "InvalidOsType", "osType"),
            (lambda body: body.update(os_type="BeOS"), "InvalidOsType", "properties.osType"),
            (lambda body: body.update(restart_policy="Sometimes"), "InvalidRequestContent", "properties.restartPolicy"),
            (
                lambda body: TestContainerGroupRequests.container(body).update(resources={}),
                "ResourceRequestsNotSpecified",
                "properties.containers[0].properties.resources.requests",
            ),
            (
                lambda body: TestContainerGroupRequests.container(body)["resources"]["requests"].update(cpu=0),
                "InvalidRequestContent",
                "properties.containers[0].properties.resources.requests.cpu",
            ),
            (
                lambda body: TestContainerGroupRequests.container(body)["resources"]["requests"].update(cpu=8),
                "ServiceUnavailable",
                "'8' CPU",
            ),
            (
                lambda body: TestContainerGroupRequests.container(body).update(
                    environment_variables=[{"name": "API_KEY", "value": "a", "secure_value": "b"}]
                ),
                "InvalidRequestContent",
                "environmentVariables[0]",
            ),
            (
                lambda body: TestContainerGroupRequests.container(body).update(name="API"),
                "InvalidRequestContent",
                "properties.containers[0].name",
            ),
            (lambda body: body["ip_address"].update(ports=[]), "MissingIpAddressPorts", "cannot be empty"),
            (
                lambda body: body["ip_address"].update(ports=[{"port": 8080}]),
                "InvalidRequestContent",
                "properties.ipAddress.ports[0]",
            ),
            (
                lambda body: body.update(
                    diagnostics={
                        "log_analytics": {"workspace_id": "/subscriptions/x/workspaces/y", "workspace_key": "k"}
                    }
                ),
                "InvalidRequestContent",
                "properties.diagnostics.logAnalytics.workspaceId",
            ),
            (lambda body: None, "InaccessibleImage", "is not accessible"),
        ],
    )
    def test_an_invalid_container_group_is_refused_as_aci_does(
        self, bare_clients: ArmClients, bare_group: str, breaks: Any, code: str, named: str
    ) -> None:
        body = self.body()
        breaks(body)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.containers.container_groups.begin_create_or_update(bare_group, "garch-api", body)
        assert (refused.value.status_code, refused.value.error.code) == (400, code)
        assert named in refused.value.message
        assert bare_clients.emulator.containers() == []

    def test_group_names_follow_aci_rules(self, bare_clients: ArmClients, bare_group: str) -> None:
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.containers.container_groups.begin_create_or_update(bare_group, "Garch_API", self.body())
        assert refused.value.error.code == "InvalidResourceName"
