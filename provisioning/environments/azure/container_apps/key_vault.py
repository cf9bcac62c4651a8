"""The run's Key Vault (`azure.secrets: key_vault`): the app's secrets live there and the app reads them with its
identity, so no secret value is stored in the app's configuration.

RBAC mode (no access policies); soft delete cannot be turned off on Azure, so the shortest retention (7 days) and no
purge protection: after the resource group is deleted, teardown purges the soft-deleted vault, which leaves nothing
(not even the name reserved). Secrets are written through ARM, so the deployer needs no data-plane role.
"""

from collections.abc import Mapping
from typing import Any

from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_apps.app_spec import secret_name
from provisioning.environments.azure.progress import Progress
from provisioning.errors import DeploymentError

SOFT_DELETE_RETENTION_DAYS = 7


class RunKeyVault:
    def __init__(
        self, clients: AzureClients, resource_group: str, name: str, location: str, progress: Progress, timeout_s: float
    ) -> None:
        self._clients, self._group, self.name, self._location = clients, resource_group, name, location
        self._progress, self._timeout_s = progress, timeout_s

    @property
    def _vaults(self) -> Any:
        return self._clients.key_vault.vaults

    def ensure(self, tags: Mapping[str, str]) -> Any:
        """The vault (created or left as it is); returns it."""
        from azure.mgmt.keyvault import models as kv

        tenant = self._clients.azure.tenant_id
        if not tenant:
            raise DeploymentError("azure.secrets key_vault needs AZURE_TENANT_ID (the vault's tenant)")
        body = kv.VaultCreateOrUpdateParameters(
            location=self._location,
            tags=dict(tags),
            properties=kv.VaultProperties(
                tenant_id=tenant,
                sku=kv.Sku(family="A", name="standard"),
                enable_rbac_authorization=True,
                soft_delete_retention_in_days=SOFT_DELETE_RETENTION_DAYS,
            ),
        )
        with arm_operation(f"creating key vault {self.name}"):
            poller = self._vaults.begin_create_or_update(self._group, self.name, body)
        return self._progress.wait_for_poller(f"key vault {self.name}", poller, self._timeout_s)

    def get(self) -> Any:
        with arm_operation(f"reading key vault {self.name}"):
            return self._vaults.get(self._group, self.name)

    def put_secrets(self, secrets: Mapping[str, str]) -> dict[str, str]:
        """Write each secret (by environment variable); returns each variable's secret URL."""
        from azure.mgmt.keyvault import models as kv

        vault_uri = str(self.get().properties.vault_uri)
        urls = {}
        for variable, value in sorted(secrets.items()):
            name = secret_name(variable)
            body = kv.SecretCreateOrUpdateParameters(properties=kv.SecretProperties(value=value))
            with arm_operation(f"writing secret {name} to key vault {self.name}"):
                self._clients.key_vault.secrets.create_or_update(self._group, self.name, name, body)
            urls[variable] = f"{vault_uri.rstrip('/')}/secrets/{name}"
        return urls

    def purge_deleted(self) -> bool:
        """Purge the vault once its group is gone (it is then soft-deleted); False when there is none to purge."""
        deleted = get_or_none(
            f"reading deleted key vault {self.name}", lambda: self._vaults.get_deleted(self.name, self._location)
        )
        if deleted is None:
            return False
        with arm_operation(f"purging key vault {self.name}"):
            poller = self._vaults.begin_purge_deleted(self.name, self._location)
        self._progress.wait_for_poller(f"purge of key vault {self.name}", poller, self._timeout_s)
        return True
