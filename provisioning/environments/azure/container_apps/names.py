"""The names of one Container Apps run: the run's names (as for ACI) plus its managed environment and key vault."""

import secrets
from dataclasses import dataclass

from provisioning.config import AzureSection
from provisioning.environments.azure.names import AciNames


@dataclass(frozen=True)
class ContainerAppNames(AciNames):
    managed_environment: str = ""
    key_vault: str = ""

    @classmethod
    def for_run(cls, azure: AzureSection, run_id: str | None = None) -> "ContainerAppNames":
        """The app is named like the container group (`azure.container_group`, also a valid app name)."""
        base = AciNames.for_run(azure, run_id or secrets.token_hex(3))
        return cls(
            **base.as_dict(),
            managed_environment=f"{azure.container_group}-env-{base.run_id}",
            key_vault=f"{azure.key_vault_prefix}{base.run_id}",
        )

    @property
    def app(self) -> str:
        return self.container_group
