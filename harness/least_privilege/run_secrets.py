"""The secret values a prod run holds, read back through ARM: what must never be found in what the run writes."""

from provisioning.environments.azure.clients import AzureClients


def run_secrets(clients: AzureClients, resource_group: str) -> dict[str, str]:
    """Storage account keys, registry passwords, Log Analytics shared keys and Application Insights connection
    strings of the run's resource group, named by where each comes from."""
    found: dict[str, str] = {}
    for account in clients.storage.storage_accounts.list_by_resource_group(resource_group):
        for key in clients.storage.storage_accounts.list_keys(resource_group, account.name).keys_property or []:
            found[f"storage {account.name} {key.key_name}"] = key.value
    for registry in clients.registries.registries.list_by_resource_group(resource_group):
        if registry.admin_user_enabled:
            credentials = clients.registries.registries.list_credentials(resource_group, registry.name)
            for password in credentials.passwords or []:
                found[f"registry {registry.name} {password.name}"] = password.value
    for workspace in clients.log_analytics.workspaces.list_by_resource_group(resource_group):
        keys = clients.log_analytics.shared_keys.get_shared_keys(resource_group, workspace.name)
        found[f"workspace {workspace.name} primary key"] = keys.primary_shared_key
        found[f"workspace {workspace.name} secondary key"] = keys.secondary_shared_key
    for component in clients.app_insights.components.list_by_resource_group(resource_group):
        found[f"app insights {component.name}"] = component.connection_string
    return {name: str(value) for name, value in found.items() if value}
