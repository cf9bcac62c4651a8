"""The emulator speaks ARM to the real SDK management clients: every ARM fault it injects, as the SDK experiences
it (throttling, server errors, conflicts, quota, failed long-running operations, any ARM error).

These need the emulator process but no Docker and no registry (an emulator without a login server), so they are
`unit` tests; container groups, which really run, are in test_container_groups.py.
"""

import time
import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.mgmt.resource.resources import ResourceManagementClient

from harness.arm_emulator.client import ArmEmulator

from .conftest import LOCATION, ArmClients, new_group
from .sdk_resources import BLOB_READER, calls, make_registry, make_workspace, role_definition_id

pytestmark = pytest.mark.unit


class TestFaults:
    """Each injected ARM fault, as the SDK experiences it."""

    def test_throttling_is_retried_after_retry_after(self, bare_clients: ArmClients) -> None:
        emulator = bare_clients.emulator
        emulator.inject("throttle", method="PUT", type="Microsoft.Resources/resourceGroups", retry_after=1)
        started = time.monotonic()
        new_group(bare_clients)
        waited = time.monotonic() - started
        assert waited >= 1.0
        assert [status for _, _, status in calls(emulator, "Microsoft.Resources/resourceGroups")] == [429, 201]
        assert emulator.faults()[0]["hits"] == 1

    @pytest.mark.parametrize("method", ["GET", "PUT"])
    def test_a_transient_server_error_is_retried(self, bare_clients: ArmClients, bare_group: str, method: str) -> None:
        emulator = bare_clients.emulator
        emulator.clear_requests()
        emulator.inject("server_error", method=method, type="Microsoft.Resources/resourceGroups")
        groups = bare_clients.resources.resource_groups
        if method == "GET":
            assert groups.get(bare_group).name == bare_group
        else:
            assert groups.create_or_update(bare_group, {"location": LOCATION}).name == bare_group
        assert [status for _, _, status in calls(emulator, "Microsoft.Resources/resourceGroups")] == [500, 200]

    def test_a_server_error_surfaces_when_retries_are_off(
        self, bare_arm_emulator: ArmEmulator, bare_clients: ArmClients, bare_group: str
    ) -> None:
        no_retries = bare_arm_emulator.client(ResourceManagementClient, retry_total=0)
        bare_arm_emulator.inject("server_error", method="GET", type="Microsoft.Resources/resourceGroups")
        with pytest.raises(HttpResponseError) as failed:
            no_retries.resource_groups.get(bare_group)
        assert (failed.value.status_code, failed.value.error.code) == (500, "InternalServerError")

    def test_a_conflict_is_raised_with_its_arm_code_and_creates_nothing(
        self, bare_clients: ArmClients, bare_group: str
    ) -> None:
        bare_clients.emulator.inject(
            "conflict", method="PUT", type="Microsoft.ContainerRegistry/registries", code="AnotherOperationInProgress"
        )
        with pytest.raises(ResourceExistsError) as conflict:
            make_registry(bare_clients, bare_group)
        assert (conflict.value.status_code, conflict.value.error.code) == (409, "AnotherOperationInProgress")
        assert [item["type"] for item in bare_clients.emulator.resources()] == ["Microsoft.Resources/resourceGroups"]

    def test_a_quota_error_is_raised_with_its_arm_code(self, bare_clients: ArmClients, bare_group: str) -> None:
        bare_clients.emulator.inject("quota", method="PUT", type="Microsoft.OperationalInsights/workspaces")
        with pytest.raises(HttpResponseError) as refused:
            make_workspace(bare_clients, bare_group)
        assert (refused.value.status_code, refused.value.error.code) == (400, "QuotaExceeded")

    def test_a_failed_long_running_create_raises_and_leaves_a_failed_resource(
        self, bare_clients: ArmClients, bare_group: str
    ) -> None:
        bare_clients.emulator.inject("lro_failed", method="PUT", type="Microsoft.ContainerRegistry/registries")
        with pytest.raises(HttpResponseError) as failed:
            make_registry(bare_clients, bare_group)
        assert failed.value.error.code == "ResourceDeploymentFailure"
        registry = bare_clients.registries.registries.get(bare_group, "garchregistry")
        assert registry.provisioning_state == "Failed"
        bare_clients.registries.registries.begin_delete(bare_group, "garchregistry").result()
        with pytest.raises(ResourceNotFoundError):
            bare_clients.registries.registries.get(bare_group, "garchregistry")

    def test_a_failed_group_deletion_raises_and_a_retry_succeeds(
        self, bare_clients: ArmClients, bare_group: str
    ) -> None:
        groups = bare_clients.resources.resource_groups
        bare_clients.emulator.inject(
            "lro_failed",
            method="DELETE",
            type="Microsoft.Resources/resourceGroups",
            code="ResourceGroupDeletionBlocked",
        )
        with pytest.raises(HttpResponseError) as failed:
            groups.begin_delete(bare_group).result()
        assert failed.value.error.code == "ResourceGroupDeletionBlocked"
        assert groups.get(bare_group).properties.provisioning_state == "Succeeded"
        groups.begin_delete(bare_group).result()
        bare_clients.emulator.assert_holds_nothing()

    def test_any_arm_error_can_be_injected(self, bare_clients: ArmClients, bare_group: str) -> None:
        bare_clients.emulator.inject(
            "error", method="PUT", type="Microsoft.Authorization/roleAssignments", status=400, code="PrincipalNotFound",
            message="Principal 1234 does not exist in the directory.",
        )  # fmt: skip
        scope = f"/subscriptions/{bare_clients.emulator.subscription_id}/resourceGroups/{bare_group}"
        role = role_definition_id(bare_clients.emulator, BLOB_READER)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.authorization.role_assignments.create(
                scope, str(uuid.uuid4()), {"role_definition_id": role, "principal_id": str(uuid.uuid4())}
            )
        assert refused.value.error.code == "PrincipalNotFound"
