"""The emulator speaks ARM to the real SDK management clients: lifecycles, long-running operations, error bodies,
api-versions, request validation per resource type, and every ARM fault as the SDK experiences it.

These need the emulator process but no Docker and no registry (an emulator without a login server), so they are
`unit` tests; container groups, which really run, are in test_container_groups.py.
"""

import time
import uuid
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from harness.arm_emulator.client import ArmEmulator
from provisioning.environments.azure.credentials import StaticTokenCredential

from .conftest import LOCATION, ArmClients, new_group

pytestmark = pytest.mark.unit

BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def calls(emulator: ArmEmulator, resource_type: str) -> list[tuple[str, str, int]]:
    """(method, kind, status) of the logged calls on one resource type."""
    return [
        (entry["method"], entry["kind"], entry["status"])
        for entry in emulator.requests()
        if entry["resource_type"] == resource_type
    ]


def role_definition_id(emulator: ArmEmulator, role: str) -> str:
    return f"/subscriptions/{emulator.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def make_registry(clients: ArmClients, group: str, name: str = "garchregistry", *, admin: bool = True) -> Any:
    body = {"location": LOCATION, "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": admin}}
    return clients.registries.registries.begin_create(group, name, body).result()


def make_workspace(clients: ArmClients, group: str, name: str = "garch-logs") -> Any:
    body = {"location": LOCATION, "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30}}
    return clients.log_analytics.workspaces.begin_create_or_update(group, name, body).result()


def make_component(clients: ArmClients, group: str, workspace_id: str, name: str = "garch-insights") -> Any:
    body = {"location": LOCATION, "kind": "web", "application_type": "web", "workspace_resource_id": workspace_id}
    return clients.app_insights.components.create_or_update(group, name, body)


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


class TestMonitoring:
    """Metric alerts, action groups, log search alerts and web tests: accepted when valid, refused naming the
    property when not (the scope here is an App Insights component; ACI-scoped alerts need a running group)."""

    @pytest.fixture
    def component(self, bare_clients: ArmClients, bare_group: str) -> Any:
        return make_component(bare_clients, bare_group, make_workspace(bare_clients, bare_group).id)

    @pytest.fixture
    def action_group(self, bare_clients: ArmClients, bare_group: str) -> Any:
        body = {
            "location": "Global",
            "group_short_name": "garch-ops",
            "enabled": True,
            "email_receivers": [{"name": "oncall", "email_address": "oncall@example.com"}],
            "webhook_receivers": [{"name": "hook", "service_uri": "https://example.com/hook"}],
        }
        return bare_clients.monitor.action_groups.create_or_update(bare_group, "garch-ops", body)

    def metric_alert(self, component: Any, action_group: Any, **properties: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "location": "global",
            "severity": 1,
            "enabled": True,
            "scopes": [component.id],
            "evaluation_frequency": "PT1M",
            "window_size": "PT5M",
            "criteria": {
                "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                "allOf": [
                    {
                        "criterionType": "StaticThresholdCriterion",
                        "name": "failed-requests",
                        "metricName": "requests/failed",
                        "timeAggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 5,
                    }
                ],
            },
            "actions": [{"action_group_id": action_group.id}],
        }
        body.update(properties)
        return body

    def test_a_valid_metric_alert_and_action_group_are_accepted(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        assert action_group.location == "Global" and action_group.email_receivers[0].status == "Enabled"
        alert = bare_clients.monitor.metric_alerts.create_or_update(
            bare_group, "failed-requests", self.metric_alert(component, action_group)
        )
        assert alert.location == "global" and alert.window_size.total_seconds() == 300
        assert bare_clients.monitor.metric_alerts.get(bare_group, "failed-requests").scopes == [component.id]

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"location": "westeurope"}, "location"),
            ({"severity": 5}, "properties.severity"),
            ({"evaluation_frequency": "PT2M"}, "properties.evaluationFrequency"),
            ({"window_size": "P2D"}, "properties.windowSize"),
            ({"evaluation_frequency": "PT15M", "window_size": "PT5M"}, "properties.windowSize"),
            ({"scopes": []}, "properties.scopes"),
            (
                {"scopes": ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x"]},
                "properties.scopes[0]",
            ),
            ({"enabled": None}, "properties.enabled"),
        ],
    )
    def test_an_invalid_metric_alert_is_refused_naming_the_property(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any, change: dict, named: str
    ) -> None:
        body = self.metric_alert(component, action_group, **change)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert refused.value.status_code == 400
        assert named in refused.value.message

    @pytest.mark.parametrize(
        ("criterion", "named"),
        [
            ({"metricName": "requests/failedPercent"}, "allOf[0].metricName"),
            ({"metricName": "requests/failed", "timeAggregation": "Average"}, "allOf[0].timeAggregation"),
            ({"operator": "Above"}, "allOf[0].operator"),
            ({"threshold": None}, "allOf[0].threshold"),
        ],
    )
    def test_metric_alert_criteria_are_checked(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any, criterion: dict, named: str
    ) -> None:
        body = self.metric_alert(component, action_group)
        body["criteria"]["allOf"][0].update(criterion)
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert refused.value.status_code == 400 and named in refused.value.message

    def test_alert_actions_must_name_an_existing_action_group(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        body = self.metric_alert(component, action_group, actions=[{"action_group_id": action_group.id + "-gone"}])
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.metric_alerts.create_or_update(bare_group, "bad-alert", body)
        assert "properties.actions[0]" in refused.value.message

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"group_short_name": "garch-operations"}, "properties.groupShortName"),
            ({"location": "westeurope"}, "location"),
            (
                {"email_receivers": [{"name": "oncall", "email_address": "not-an-address"}]},
                "emailReceivers[0].emailAddress",
            ),
            ({"webhook_receivers": [{"name": "hook"}]}, "webhookReceivers[0].serviceUri"),
        ],
    )
    def test_an_invalid_action_group_is_refused_naming_the_property(
        self, bare_clients: ArmClients, bare_group: str, change: dict, named: str
    ) -> None:
        body = {"location": "Global", "group_short_name": "garch-ops", "enabled": True, **change}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.action_groups.create_or_update(bare_group, "bad-group", body)
        assert refused.value.status_code == 400 and named in refused.value.message

    def test_log_search_alert_rules(
        self, bare_clients: ArmClients, bare_group: str, component: Any, action_group: Any
    ) -> None:
        body: dict[str, Any] = {
            "location": LOCATION,
            "kind": "LogAlert",
            "severity": 2,
            "enabled": True,
            "scopes": [component.id],
            "evaluation_frequency": "PT5M",
            "window_size": "PT15M",
            "criteria": {
                "all_of": [
                    {
                        "query": "requests | where success == false",
                        "time_aggregation": "Count",
                        "operator": "GreaterThan",
                        "threshold": 10,
                    }
                ]
            },
            "actions": {"action_groups": [action_group.id]},
        }
        rule = bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert rule.kind == "LogAlert"
        body["window_size"] = "PT1M"
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert "properties.windowSize" in refused.value.message
        body["window_size"] = "PT15M"
        body["criteria"]["all_of"][0]["time_aggregation"] = "Average"
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.monitor.scheduled_query_rules.create_or_update(bare_group, "errors", body)
        assert "metricMeasureColumn" in refused.value.message

    def test_standard_web_test_linked_to_its_component(
        self, bare_clients: ArmClients, bare_group: str, component: Any
    ) -> None:
        body: dict[str, Any] = {
            "location": LOCATION,
            "kind": "standard",
            "tags": {f"hidden-link:{component.id}": "Resource"},
            "synthetic_monitor_id": "garch-health",
            "web_test_name": "garch-health",
            "enabled": True,
            "frequency": 300,
            "timeout": 30,
            "web_test_kind": "standard",
            "locations": [{"location": "us-va-ash-azr"}, {"location": "emea-nl-ams-azr"}],
            "request": {"request_url": "http://127.0.0.2:8001/health", "http_verb": "GET"},
            "validation_rules": {"expected_http_status_code": 200},
        }
        created = bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert created.provisioning_state == "Succeeded"
        body["tags"] = {}
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert "hidden-link" in refused.value.message
        body["tags"] = {f"hidden-link:{component.id}": "Resource"}
        body["frequency"] = 120
        with pytest.raises(HttpResponseError) as refused:
            bare_clients.app_insights.web_tests.create_or_update(bare_group, "garch-health", body)
        assert "properties.Frequency" in refused.value.message


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
