"""The api-versions the installed Azure SDK management packages send, per resource type; nothing else is accepted.

Taken from each package's operations (`_params.pop("api-version", ...)`) or, for the multi-API packages, from the
client's LATEST_PROFILE. `tests/arm_emulator/test_api_versions.py` re-reads the installed SDKs and fails when an SDK
upgrade changes one of these, so the table cannot silently drift from what the clients send.
"""

from collections.abc import Mapping

from harness.arm_emulator.errors import ArmError

# resource type (canonical casing) -> (SDK package and operation group that sends it, api-version)
SDK_API_VERSIONS: Mapping[str, tuple[str, str]] = {
    "Microsoft.Resources/resourceGroups": ("azure-mgmt-resource 26: resource_groups", "2025-04-01"),
    "Microsoft.Resources/resources": ("azure-mgmt-resource 26: resources (list)", "2025-04-01"),
    "Microsoft.Resources/providers": ("azure-mgmt-resource 26: providers", "2025-04-01"),
    "Microsoft.ContainerInstance/containerGroups": (
        "azure-mgmt-containerinstance 10.1: container_groups",
        "2023-05-01",
    ),
    "Microsoft.ContainerRegistry/registries": ("azure-mgmt-containerregistry 15: registries", "2025-11-01"),
    "Microsoft.OperationalInsights/workspaces": ("azure-mgmt-loganalytics 14: workspaces", "2025-07-01"),
    "Microsoft.Insights/components": ("azure-mgmt-applicationinsights 4.1: components", "2020-02-02"),
    "Microsoft.Insights/webtests": ("azure-mgmt-applicationinsights 4.1: web_tests", "2022-06-15"),
    "Microsoft.Insights/metricAlerts": ("azure-mgmt-monitor 7: metric_alerts", "2018-03-01"),
    "Microsoft.Insights/actionGroups": ("azure-mgmt-monitor 7: action_groups", "2023-01-01"),
    "Microsoft.Insights/scheduledQueryRules": ("azure-mgmt-monitor 7: scheduled_query_rules", "2023-12-01"),
    "Microsoft.Storage/storageAccounts": ("azure-mgmt-storage 25.3: storage_accounts", "2026-09-01"),
    "Microsoft.Authorization/roleAssignments": ("azure-mgmt-authorization 4: role_assignments", "2022-04-01"),
    "Microsoft.Authorization/roleDefinitions": ("azure-mgmt-authorization 4: role_definitions", "2022-04-01"),
    "Microsoft.App/managedEnvironments": ("azure-mgmt-appcontainers 5.1: managed_environments", "2026-07-01"),
    "Microsoft.App/containerApps": ("azure-mgmt-appcontainers 5.1: container_apps (and revisions)", "2026-07-01"),
    "Microsoft.KeyVault/vaults": ("azure-mgmt-keyvault 14.1: vaults and secrets", "2026-05-15"),
    "Microsoft.KeyVault/deletedVaults": ("azure-mgmt-keyvault 14.1: vaults (get_deleted, purge_deleted)", "2026-05-15"),
}

_BY_LOWER = {resource_type.lower(): resource_type for resource_type in SDK_API_VERSIONS}


def canonical_type(resource_type: str) -> str | None:
    return _BY_LOWER.get(resource_type.lower())


def supported_version(resource_type: str) -> str:
    return SDK_API_VERSIONS[resource_type][1]


def check_api_version(resource_type: str, api_version: str | None, location: str = "global") -> None:
    """Raise ARM's error for a missing or unsupported api-version (resource groups and providers answer
    InvalidApiVersionParameter, resource providers NoRegisteredProviderFound, as ARM does)."""
    if not api_version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    supported = supported_version(resource_type)
    if api_version == supported:
        return
    if resource_type.startswith("Microsoft.Resources/"):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{api_version}' is invalid. The supported versions are '{supported}'.",
        )
    type_name = resource_type.split("/", 1)[1]
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{api_version}' "
        f"for type '{type_name}'. The supported api-versions are '{supported}'. "
        f"The supported locations are '{location}'.",
    )
