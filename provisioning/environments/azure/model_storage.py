"""The prod model store: a storage account per run, its blob container, and read access for the container group.

Provisioned with the rest of the run and deleted with its resource group. The deployer reaches the data plane with
the account key (listKeys: it holds management rights there, not a data role); the service with the group's
managed identity (Storage Blob Data Reader on the account) or, as the fallback, that key in a secureValue.
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
from azure.mgmt.storage.models import (
    BlobContainer,
    ContainerProperties,
    Sku,
    StorageAccountCreateParameters,
    StorageAccountPropertiesCreateParameters,
)

from provisioning.config_models import ModelStoreSection
from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.progress import Progress
from provisioning.models.stores import STORE_SECRET, missing_models
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import ModelStore, StoreUnreachable, open_store

STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
# Role assignment names are GUIDs derived from what they grant, so granting again is the same PUT, not a duplicate.
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("5d0f8a52-3c1e-4f7a-9b7e-6a0c2f4d8e11")
ENVIRONMENT = "prod"


def account_parameters(location: str, sku: str, tags: Mapping[str, str]) -> StorageAccountCreateParameters:
    """StorageV2, HTTPS and TLS 1.2 only, no anonymous blob access: the model store holds nothing public."""
    return StorageAccountCreateParameters(
        sku=Sku(name=sku),
        kind="StorageV2",
        location=location,
        tags=dict(tags),
        properties=StorageAccountPropertiesCreateParameters(
            minimum_tls_version="TLS1_2", allow_blob_public_access=False, enable_https_traffic_only=True
        ),
    )


def container_name(section: ModelStoreSection) -> str:
    """The same `<prefix>-<env>` container every Blob store of this project uses."""
    return f"{section.container_prefix}-{ENVIRONMENT}"


def container_url(blob_endpoint: str, container: str) -> str:
    return f"{blob_endpoint.rstrip('/')}/{container}"


def connection_string(account: str, key: str, blob_endpoint: str) -> str:
    """A Blob-only connection string; BlobEndpoint keeps sovereign clouds and emulators right."""
    protocol = blob_endpoint.split("://", 1)[0]
    return (
        f"DefaultEndpointsProtocol={protocol};AccountName={account};AccountKey={key};"
        f"BlobEndpoint={blob_endpoint.rstrip('/')};"
    )


def role_definition_id(subscription_id: str, role: str = STORAGE_BLOB_DATA_READER) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def role_assignment_name(scope: str, principal_id: str, role: str = STORAGE_BLOB_DATA_READER) -> str:
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, f"{scope.lower()}|{principal_id.lower()}|{role.lower()}"))


def role_assignment(subscription_id: str, principal_id: str) -> RoleAssignmentCreateParameters:
    """ServicePrincipal: ARM then accepts a managed identity created seconds ago (no directory lookup)."""
    return RoleAssignmentCreateParameters(
        role_definition_id=role_definition_id(subscription_id),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        description="garch-mlops: the API container group reads the published models",
    )


def serving_env(url: str, auth: str, key_connection_string: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(env, secure env) that make the service load from `url`: with its identity, or with the account key."""
    if auth == "connection_string":
        if not key_connection_string:
            raise ValueError("model_storage.auth connection_string needs the account's connection string")
        return {"MODEL_STORE": url}, {STORE_SECRET: key_connection_string}
    return {"MODEL_STORE": url}, {}


@dataclass
class ModelStorage:
    """One run's storage account and container, through the management API (and the key, for the data plane)."""

    clients: AzureClients
    resource_group: str
    account: str
    container: str
    progress: Progress
    timeout_s: float

    def ensure(self, location: str, sku: str, tags: Mapping[str, str]) -> None:
        """Create (or update) the account and its container; both PUTs are idempotent."""
        accounts = self.clients.storage.storage_accounts
        with arm_operation(f"creating storage account {self.account}"):
            poller = accounts.begin_create(self.resource_group, self.account, account_parameters(location, sku, tags))
        self.progress.wait_for_poller(f"storage account {self.account}", poller, self.timeout_s)
        with arm_operation(f"creating blob container {self.container}"):
            self.clients.storage.blob_containers.create(
                self.resource_group,
                self.account,
                self.container,
                BlobContainer(container_properties=ContainerProperties(public_access="None")),
            )
        self.progress.say(f"[model store] {self.container_url()} ready")

    def _account(self) -> Any:
        with arm_operation(f"reading storage account {self.account}"):
            return self.clients.storage.storage_accounts.get_properties(self.resource_group, self.account)

    def account_id(self) -> str:
        return str(self._account().id)

    def container_url(self) -> str:
        return container_url(str(self._account().primary_endpoints.blob), self.container)

    def connection_string(self) -> str:
        account = self._account()
        with arm_operation(f"listing keys of storage account {self.account}"):
            keys = self.clients.storage.storage_accounts.list_keys(self.resource_group, self.account).keys_property
        return connection_string(self.account, keys[0].value, str(account.primary_endpoints.blob))

    def grant_reader(self, principal_id: str) -> str:
        """Storage Blob Data Reader on the model store's container only (not the account: the service reads one
        container and nothing else there) for `principal_id`; returns the assignment's id."""
        scope = f"{self.account_id()}/blobServices/default/containers/{self.container}"
        name = role_assignment_name(scope, principal_id)
        body = role_assignment(self.clients.azure.subscription_id, principal_id)
        with arm_operation(f"granting Storage Blob Data Reader on {self.account}/{self.container}"):
            assignment = self.clients.authorization.role_assignments.create(scope, name, body)
        return str(assignment.id)

    def open(self, *, create: bool = False) -> ModelStore:
        """The store, for the deployer (publishing or checking what it holds) with the account key."""
        return open_store(self.container_url(), connection_string=self.connection_string(), create=create)

    def serves_every_model(self) -> bool:
        """Whether a service started on this store would load every served model; unreachable counts as no."""
        try:
            missing = missing_models(self.open(), BUILTIN_MODELS)
        except StoreUnreachable as error:
            self.progress.say(f"[model store] not used: {error}")
            return False
        if missing:
            self.progress.say(f"[model store] not used yet: no published {', '.join(missing)} (--action publish)")
        return not missing
