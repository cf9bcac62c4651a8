"""The management clients, all pointed at one ARM endpoint with one credential and one retry policy.

Throttling (429, honouring Retry-After) and transient 5xx are retried by azure-core's RetryPolicy, bounded by
`retry_total`; everything else surfaces as an error carrying ARM's code and message.
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from azure.core.credentials import TokenCredential

from provisioning.environments.azure.credentials import make_credential
from provisioning.environments.azure.settings import AzureEnvironment

RETRY_TOTAL = 4
RETRY_BACKOFF_S = 0.8


@dataclass
class AzureClients:
    azure: AzureEnvironment
    retry_total: int = RETRY_TOTAL
    credential: TokenCredential = field(init=False)

    def __post_init__(self) -> None:
        self.credential = make_credential(self.azure)

    def _options(self) -> dict[str, Any]:
        return {
            "base_url": self.azure.arm_endpoint,
            "credential_scopes": [self.azure.arm_scope],
            "polling_interval": self.azure.polling_interval_s,
            "retry_total": self.retry_total,
            "retry_status": self.retry_total,  # azure-core's own default (3) would bound 429/5xx retries instead
            "retry_backoff_factor": RETRY_BACKOFF_S,
        }

    @cached_property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def container_instances(self) -> Any:
        from azure.mgmt.containerinstance import ContainerInstanceManagementClient

        return ContainerInstanceManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def registries(self) -> Any:
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return ContainerRegistryManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def log_analytics(self) -> Any:
        from azure.mgmt.loganalytics import LogAnalyticsManagementClient

        return LogAnalyticsManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def app_insights(self) -> Any:
        from azure.mgmt.applicationinsights import ApplicationInsightsManagementClient

        return ApplicationInsightsManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def monitor(self) -> Any:
        from azure.mgmt.monitor import MonitorManagementClient

        return MonitorManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def storage(self) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return StorageManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def container_apps(self) -> Any:
        from azure.mgmt.appcontainers import ContainerAppsAPIClient

        return ContainerAppsAPIClient(self.credential, self.azure.subscription_id, **self._options())

    @cached_property
    def key_vault(self) -> Any:
        from azure.mgmt.keyvault import KeyVaultManagementClient

        return KeyVaultManagementClient(self.credential, self.azure.subscription_id, **self._options())
