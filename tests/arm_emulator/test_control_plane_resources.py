"""The emulator speaks ARM to the real SDK management clients: resource groups and the lifecycles, keys and
request checks of the supporting resources (registries, workspaces, App Insights, storage, role assignments).

These need the emulator process but no Docker and no registry (an emulator without a login server), so they are
`unit` tests; container groups, which really run, are in test_container_groups.py.
"""

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from .conftest import LOCATION, ArmClients, new_group
from .sdk_resources import BLOB_READER, calls, make_component, make_registry, make_workspace, role_definition_id

pytestmark = pytest.mark.unit


class TestResourceGroups:
    def test_create_update_read_list_delete(self, bare_clients: ArmClients) -> None:
        emulator, groups = bare_clients.emulator, bare_clients.resources.resource_groups
        name = new_group(bare_clients, project="garch-mlops")
        updated = groups.create_or_update(name, {"location": LOCATION, "tags": {"project": "garch-mlops", "env": "ci"}})
        assert updated.properties.provisioning_state == "Succeeded"
        assert groups.check_existence(name) is True
        assert groups.check_existence("rg-that-never-was") is False
        tagged = [rg.name for rg in groups.list(filter="tagName eq 'env' and tagValue eq 'ci'")]
        assert tagged == [name]

        groups.begin_delete(name).result()

        with pytest.raises(ResourceNotFoundError) as missing:
            groups.get(name)
        assert missing.value.error.code == "ResourceGroupNotFound"
        assert calls(emulator, "Microsoft.Resources/resourceGroups") == [
            ("PUT", "resource", 201),
            ("PUT", "resource", 200),
            ("HEAD", "resource", 204),
            ("HEAD", "resource", 404),
            ("GET", "list", 200),
            ("DELETE", "resource", 202),
            ("GET", "poll", 202),
            ("GET", "poll", 200),
            ("GET", "resource", 404),
        ]

    def test_ids_are_case_insensitive_and_keep_their_casing(self, bare_clients: ArmClients) -> None:
        bare_clients.resources.resource_groups.create_or_update("RG-Mixed-Case", {"location": "West Europe"})
        found = bare_clients.resources.resource_groups.get("rg-mixed-case")
        assert found.id.endswith("/resourceGroups/RG-Mixed-Case")
        assert found.location == "westeurope"

    def test_deleting_a_group_deletes_everything_in_it(self, bare_clients: ArmClients, bare_group: str) -> None:
        workspace = make_workspace(bare_clients, bare_group)
        make_registry(bare_clients, bare_group)
        make_component(bare_clients, bare_group, workspace.id)
        listed = {item.type for item in bare_clients.resources.resources.list_by_resource_group(bare_group)}
        assert listed == {
            "Microsoft.OperationalInsights/workspaces",
            "Microsoft.ContainerRegistry/registries",
            "Microsoft.Insights/components",
        }

        bare_clients.resources.resource_groups.begin_delete(bare_group).result()

        bare_clients.emulator.assert_holds_nothing()

    def test_resources_cannot_be_created_in_a_missing_group(self, bare_clients: ArmClients) -> None:
        with pytest.raises(ResourceNotFoundError) as missing:
            make_workspace(bare_clients, "rg-missing")
        assert missing.value.error.code == "ResourceGroupNotFound"

    def test_deleting_a_missing_group_is_a_404_as_in_arm(self, bare_clients: ArmClients) -> None:
        with pytest.raises(ResourceNotFoundError):
            bare_clients.resources.resource_groups.begin_delete("rg-missing").result()


class TestProviders:
    def test_registry_admin_credentials(self, bare_clients: ArmClients, bare_group: str) -> None:
        registry = make_registry(bare_clients, bare_group)
        assert registry.provisioning_state == "Succeeded"
        assert registry.login_server == "garchregistry.azurecr.io"  # no local registry behind this emulator
        credentials = bare_clients.registries.registries.list_credentials(bare_group, "garchregistry")
        assert credentials.username == "garchregistry"
        assert len({password.value for password in credentials.passwords}) == 2

    def test_registry_without_admin_user_has_no_credentials(self, bare_clients: ArmClients, bare_group: str) -> None:
        make_registry(bare_clients, bare_group, "garchnoadmin", admin=False)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.registries.registries.list_credentials(bare_group, "garchnoadmin")
        assert refused.value.status_code == 400 and "adminUserEnabled" in refused.value.message

    def test_workspace_keys_and_workspace_based_app_insights(self, bare_clients: ArmClients, bare_group: str) -> None:
        workspace = make_workspace(bare_clients, bare_group)
        uuid.UUID(workspace.customer_id)
        keys = bare_clients.log_analytics.shared_keys.get_shared_keys(bare_group, "garch-logs")
        assert keys.primary_shared_key != keys.secondary_shared_key
        component = make_component(bare_clients, bare_group, workspace.id)
        assert component.workspace_resource_id == workspace.id
        assert component.connection_string.startswith(f"InstrumentationKey={component.instrumentation_key};")

    def test_app_insights_must_name_an_existing_workspace(self, bare_clients: ArmClients, bare_group: str) -> None:
        group_id = f"/subscriptions/{bare_clients.emulator.subscription_id}/resourceGroups/{bare_group}"
        missing = f"{group_id}/providers/Microsoft.OperationalInsights/workspaces/nope"
        with pytest.raises(HttpResponseError) as refused:
            make_component(bare_clients, bare_group, missing)
        assert refused.value.status_code == 400
        assert "properties.WorkspaceResourceId" in refused.value.message

    def test_storage_account_is_created_through_a_location_operation(
        self, bare_clients: ArmClients, bare_group: str
    ) -> None:
        body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        account = bare_clients.storage.storage_accounts.begin_create(bare_group, "garchmodels01", body).result()
        assert account.provisioning_state == "Succeeded"
        assert account.primary_endpoints.blob == "https://garchmodels01.blob.core.windows.net/"
        keys = bare_clients.storage.storage_accounts.list_keys(bare_group, "garchmodels01")
        assert [key["keyName"] for key in keys["keys"]] == ["key1", "key2"]  # `.keys` is the mapping's method
        statuses = calls(bare_clients.emulator, "Microsoft.Storage/storageAccounts")
        assert statuses[:3] == [("PUT", "resource", 202), ("GET", "poll", 202), ("GET", "poll", 200)]

    def test_role_assignment_for_a_managed_identity_on_a_storage_account(
        self, bare_clients: ArmClients, bare_group: str
    ) -> None:
        body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        account = bare_clients.storage.storage_accounts.begin_create(bare_group, "garchmodels02", body).result()
        role = role_definition_id(bare_clients.emulator, BLOB_READER)
        principal = str(uuid.uuid4())
        assignment = {"role_definition_id": role, "principal_id": principal, "principal_type": "ServicePrincipal"}
        created = bare_clients.authorization.role_assignments.create(account.id, str(uuid.uuid4()), assignment)
        assert created.scope == account.id
        with pytest.raises(ResourceExistsError) as duplicate:
            bare_clients.authorization.role_assignments.create(account.id, str(uuid.uuid4()), assignment)
        assert duplicate.value.error.code == "RoleAssignmentExists"
        listed = list(bare_clients.authorization.role_assignments.list_for_scope(account.id))
        assert [item.principal_id for item in listed] == [principal]
        unknown_role = {**assignment, "role_definition_id": role.replace(BLOB_READER, str(uuid.uuid4()))}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.authorization.role_assignments.create(account.id, str(uuid.uuid4()), unknown_role)
        assert refused.value.error.code == "RoleDefinitionDoesNotExist"
        reader = next(
            iter(
                bare_clients.authorization.role_definitions.list(
                    account.id, filter="roleName eq 'Storage Blob Data Reader'"
                )
            )
        )
        assert reader.name == BLOB_READER

    @pytest.mark.parametrize(
        ("name", "body", "code", "named"),
        [
            ("garch-registry", {"sku": {"name": "Basic"}}, "InvalidResourceName", "garch-registry"),
            ("garchregistry", {"sku": {"name": "Cheap"}}, "InvalidRequestContent", "sku.name"),
            ("garchregistry", {}, "InvalidRequestContent", "sku"),
        ],
    )
    def test_registry_requests_are_checked(
        self, bare_clients: ArmClients, bare_group: str, name: str, body: dict[str, Any], code: str, named: str
    ) -> None:
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.registries.registries.begin_create(bare_group, name, {"location": LOCATION, **body}).result()
        assert (refused.value.status_code, refused.value.error.code) == (400, code)
        assert named in refused.value.message

    def test_storage_account_names_are_checked(self, bare_clients: ArmClients, bare_group: str) -> None:
        body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.storage.storage_accounts.begin_create(bare_group, "Garch_Models", body).result()
        assert refused.value.error.code == "AccountNameInvalid"

    def test_an_unknown_location_is_refused(self, bare_clients: ArmClients, bare_group: str) -> None:
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.log_analytics.workspaces.begin_create_or_update(
                bare_group, "garch-logs", {"location": "atlantis"}
            ).result()
        assert refused.value.error.code == "LocationNotAvailableForResourceType"
