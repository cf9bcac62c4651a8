"""Every role assignment a prod run makes, against the roles what it runs reads with its identity.

A grant is (principal, role, scope). What a run needs is derived from the deployed resources themselves, as ARM
returns them: a container group or container app whose identity reads a Blob model store needs Storage Blob Data
Reader on that store; a container app pulling its image with its identity needs AcrPull on that registry; one whose
secrets are Key Vault references needs Key Vault Secrets User on that vault. Anything granted beyond that is excess
privilege, anything missing is a deployment that cannot start.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from provisioning.environments.azure.clients import AzureClients

ROLE_NAMES = {
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
}
ACR_PULL, BLOB_READER, SECRETS_USER = ROLE_NAMES


@dataclass(frozen=True, order=True)
class Grant:
    principal: str
    role: str
    scope: str

    @classmethod
    def of(cls, principal: str, role: str, scope: str) -> "Grant":
        return cls(principal.lower(), role.rsplit("/", 1)[-1].lower(), scope.lower().rstrip("/"))

    def __str__(self) -> str:
        return f"{ROLE_NAMES.get(self.role, self.role)} on {self.scope} for {self.principal}"


def granted(clients: AzureClients, resource_group: str) -> set[Grant]:
    """The assignments made at or below the run's group (those inherited from above are not the run's)."""
    group_id = f"/subscriptions/{clients.azure.subscription_id}/resourceGroups/{resource_group}".lower()
    grants = set()
    for assignment in clients.authorization.role_assignments.list_for_resource_group(resource_group):
        grant = Grant.of(assignment.principal_id, assignment.role_definition_id, assignment.scope)
        if grant.scope == group_id or grant.scope.startswith(group_id + "/"):
            grants.add(grant)
    return grants


def needed(clients: AzureClients, resource_group: str, *, store_container: str | None) -> set[Grant]:
    """The grants the run's container groups and container apps use, read from their ARM bodies.

    `store_container` is the model store's container where the configuration has the service read it with its
    identity (`model_storage.auth: identity`): the identity is granted it at deploy time, before any model is
    published and MODEL_STORE set, so that publishing needs no new grant.
    """
    stores = _blob_stores(clients, resource_group)
    needs: set[Grant] = set()
    for listed in clients.container_instances.container_groups.list_by_resource_group(resource_group):
        group = clients.container_instances.container_groups.get(resource_group, listed.name)
        principal = group.identity.principal_id if group.identity else None
        variables = [variable for container in group.containers for variable in container.environment_variables or []]
        needs |= _store_reads(principal, variables, stores, store_container)
    registries = {registry.login_server.lower(): registry.id for registry in _registries(clients, resource_group)}
    for app in clients.container_apps.container_apps.list_by_resource_group(resource_group):
        principal = app.identity.principal_id if app.identity else None
        if principal is None:
            continue
        for registry in app.configuration.registries or []:
            if (registry.identity or "").lower() == "system":
                needs.add(Grant.of(principal, ACR_PULL, registries[registry.server.lower()]))
        vaults = {str(vault.properties.vault_uri).lower(): vault.id for vault in _vaults(clients, resource_group)}
        for secret in app.configuration.secrets or []:
            if secret.key_vault_url:
                vault_id = next(v for uri, v in vaults.items() if secret.key_vault_url.lower().startswith(uri))
                needs.add(Grant.of(principal, SECRETS_USER, vault_id))
        variables = [variable for container in app.template.containers for variable in container.env or []]
        needs |= _store_reads(principal, variables, stores, store_container)
    return needs


def _store_reads(
    principal: str | None, variables: Iterable[Any], stores: dict[str, str], store_container: str | None
) -> set[Grant]:
    """Storage Blob Data Reader on the container MODEL_STORE names (or, before anything is published, the
    configured one), unless a connection string is given: the service then signs in with the key, not the identity."""
    names = {variable.name: variable.value for variable in variables}
    if principal is None or "MODEL_STORE_CONNECTION_STRING" in names:
        return set()
    store = (names.get("MODEL_STORE") or "").lower()
    reads = {
        (account, store[len(endpoint) :].split("/")[0])
        for endpoint, account in stores.items()
        if store.startswith(endpoint)
    }
    if not store and store_container:
        reads = {(account, store_container) for account in stores.values()}
    return {
        Grant.of(principal, BLOB_READER, f"{account}/blobServices/default/containers/{container}")
        for account, container in reads
    }


def _blob_stores(clients: AzureClients, resource_group: str) -> dict[str, str]:
    """Blob endpoint (lower case, with a trailing slash) to storage account id, for the run's accounts."""
    return {
        str(account.primary_endpoints.blob).lower().rstrip("/") + "/": account.id
        for account in clients.storage.storage_accounts.list_by_resource_group(resource_group)
    }


def _registries(clients: AzureClients, resource_group: str) -> Iterator[Any]:
    yield from clients.registries.registries.list_by_resource_group(resource_group)


def _vaults(clients: AzureClients, resource_group: str) -> Iterator[Any]:
    yield from clients.key_vault.vaults.list_by_resource_group(resource_group)
