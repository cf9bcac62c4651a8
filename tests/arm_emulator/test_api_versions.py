"""The emulator's api-version table is what the installed SDKs send: re-read from the SDK packages themselves,
so an SDK upgrade that changes a version fails here, naming the type, instead of failing a rehearsal obscurely."""

import importlib
import inspect
import re

import pytest

from harness.arm_emulator.api_versions import SDK_API_VERSIONS
from provisioning.environments.azure.credentials import StaticTokenCredential

pytestmark = pytest.mark.unit

API_VERSION_DEFAULT = re.compile(r'"api-version", "(\d{4}-\d{2}-\d{2}(?:-preview)?)"')


def _defaults_in(source: str) -> set[str]:
    return set(API_VERSION_DEFAULT.findall(source))


def _builder(module: str, function: str) -> set[str]:
    return _defaults_in(inspect.getsource(getattr(importlib.import_module(module), function)))


def _operations_class(module: str, name: str) -> set[str]:
    return _defaults_in(inspect.getsource(getattr(importlib.import_module(module), name)))


def _profile(client_module: str, client_name: str, group: str) -> set[str]:
    client = getattr(importlib.import_module(client_module), client_name)
    profile = client.LATEST_PROFILE.get_profile_dict()[client._PROFILE_TAG]
    return {profile.get(group) or client.DEFAULT_API_VERSION}


def _container_instance() -> set[str]:
    from azure.mgmt.containerinstance import ContainerInstanceManagementClient

    client = ContainerInstanceManagementClient(StaticTokenCredential("t"), "00000000-0000-0000-0000-000000000000")
    return {client._config.api_version}


def _app_containers() -> set[str]:
    from azure.mgmt.appcontainers import ContainerAppsAPIClient

    client = ContainerAppsAPIClient(StaticTokenCredential("t"), "00000000-0000-0000-0000-000000000000")
    return {client._config.api_version}


APP_OPS = "azure.mgmt.appcontainers.operations._operations"
RESOURCES_OPS = "azure.mgmt.resource.resources.operations._operations"
KEY_VAULT_OPS = "azure.mgmt.keyvault.operations._operations"
SENT_BY_SDK = {
    "Microsoft.Resources/resourceGroups": lambda: _builder(
        RESOURCES_OPS, "build_resource_groups_create_or_update_request"
    ),
    "Microsoft.Resources/resources": lambda: _builder(RESOURCES_OPS, "build_resources_list_by_resource_group_request"),
    "Microsoft.Resources/providers": lambda: _builder(RESOURCES_OPS, "build_providers_register_request"),
    "Microsoft.ContainerInstance/containerGroups": _container_instance,
    "Microsoft.ContainerRegistry/registries": lambda: _builder(
        "azure.mgmt.containerregistry.operations._operations", "build_registries_create_request"
    ),
    "Microsoft.OperationalInsights/workspaces": lambda: _builder(
        "azure.mgmt.loganalytics.operations._operations", "build_workspaces_create_or_update_request"
    ),
    "Microsoft.Insights/components": lambda: _profile(
        "azure.mgmt.applicationinsights", "ApplicationInsightsManagementClient", "components"
    ),
    "Microsoft.Insights/webtests": lambda: _profile(
        "azure.mgmt.applicationinsights", "ApplicationInsightsManagementClient", "web_tests"
    ),
    "Microsoft.Insights/metricAlerts": lambda: _operations_class(
        "azure.mgmt.monitor.operations", "MetricAlertsOperations"
    ),
    "Microsoft.Insights/actionGroups": lambda: _operations_class(
        "azure.mgmt.monitor.operations", "ActionGroupsOperations"
    ),
    "Microsoft.Insights/scheduledQueryRules": lambda: _operations_class(
        "azure.mgmt.monitor.operations", "ScheduledQueryRulesOperations"
    ),
    "Microsoft.Storage/storageAccounts": lambda: _builder(
        "azure.mgmt.storage.operations._operations", "build_storage_accounts_create_request"
    ),
    "Microsoft.Authorization/roleAssignments": lambda: _profile(
        "azure.mgmt.authorization", "AuthorizationManagementClient", "role_assignments"
    ),
    "Microsoft.Authorization/roleDefinitions": lambda: _profile(
        "azure.mgmt.authorization", "AuthorizationManagementClient", "role_definitions"
    ),
    "Microsoft.App/managedEnvironments": lambda: (
        _app_containers() | _builder(APP_OPS, "build_managed_environments_create_or_update_request")
    ),
    "Microsoft.App/containerApps": lambda: (
        _app_containers()
        | _builder(APP_OPS, "build_container_apps_create_or_update_request")
        | _builder(APP_OPS, "build_container_apps_revisions_deactivate_revision_request")
        | _builder(APP_OPS, "build_container_apps_revision_replicas_list_replicas_request")
    ),
    "Microsoft.KeyVault/vaults": lambda: (
        _builder(KEY_VAULT_OPS, "build_vaults_create_or_update_request")
        | _builder(KEY_VAULT_OPS, "build_secrets_create_or_update_request")
    ),
    "Microsoft.KeyVault/deletedVaults": lambda: (
        _builder(KEY_VAULT_OPS, "build_vaults_get_deleted_request")
        | _builder(KEY_VAULT_OPS, "build_vaults_purge_deleted_request")
    ),
}


def test_every_emulated_type_is_checked_against_its_sdk() -> None:
    assert set(SENT_BY_SDK) == set(SDK_API_VERSIONS)


@pytest.mark.parametrize("resource_type", sorted(SDK_API_VERSIONS))
def test_the_table_holds_the_version_the_installed_sdk_sends(resource_type: str) -> None:
    sent = SENT_BY_SDK[resource_type]()
    accepted = SDK_API_VERSIONS[resource_type][1]
    assert sent == {accepted}, (
        f"{resource_type}: the installed SDK ({SDK_API_VERSIONS[resource_type][0]}) sends {sorted(sent)}, "
        f"the emulator accepts {accepted}; update harness/arm_emulator/api_versions.py"
    )
