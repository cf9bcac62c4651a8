"""The prod model store through the provisioning code's own clients: the storage account and its container are
created with the properties we ask for, the reader role lands on the account for the principal it names, granting
again changes nothing, and deleting the run's resource group leaves the emulator empty. Needs no Docker."""

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from harness.arm_emulator.client import ArmEmulator
from provisioning.config import ProjectConfig
from provisioning.environments.azure.aci_deployment import AciDeployment
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.model_storage import STORAGE_BLOB_DATA_READER, ModelStorage
from provisioning.environments.azure.progress import Progress
from provisioning.environments.azure.settings import AzureEnvironment

from .conftest import ArmClients

pytestmark = pytest.mark.emulator

ACCOUNT = "garchmodelsab12cd"
CONTAINER = "garch-models-prod"


@pytest.fixture
def storage(bare_arm_emulator: ArmEmulator, bare_group: str, monkeypatch: pytest.MonkeyPatch) -> ModelStorage:
    """ModelStorage on AzureClients configured as `mlops-deploy` configures them (from AZURE_* variables)."""
    for name, value in bare_arm_emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_POLLING_INTERVAL_S", "0")
    clients = AzureClients(AzureEnvironment())
    return ModelStorage(clients, bare_group, ACCOUNT, CONTAINER, Progress(), timeout_s=60)


def test_account_and_container_have_the_properties_asked_for(
    storage: ModelStorage, bare_clients: ArmClients, bare_group: str
) -> None:
    storage.ensure("westeurope", "Standard_LRS", {"project": "garch-mlops", "run": "ab12cd"})
    storage.ensure("westeurope", "Standard_LRS", {"project": "garch-mlops", "run": "ab12cd"})  # idempotent
    account = bare_clients.storage.storage_accounts.get_properties(bare_group, ACCOUNT)
    assert (account.kind, account.sku.name, account.provisioning_state) == ("StorageV2", "Standard_LRS", "Succeeded")
    assert account.minimum_tls_version == "TLS1_2"
    assert account.allow_blob_public_access is False and account.enable_https_traffic_only is True
    assert account.tags == {"project": "garch-mlops", "run": "ab12cd"}
    container = bare_clients.storage.blob_containers.get(bare_group, ACCOUNT, CONTAINER)
    assert container.name == CONTAINER and container.public_access == "None"
    assert storage.container_url() == f"{account.primary_endpoints.blob.rstrip('/')}/{CONTAINER}"
    assert f"AccountName={ACCOUNT};" in storage.connection_string()


def test_the_emulator_refuses_a_public_container_on_a_private_account(
    storage: ModelStorage, bare_clients: ArmClients, bare_group: str
) -> None:
    storage.ensure("westeurope", "Standard_LRS", {})
    with pytest.raises(HttpResponseError) as refused:
        bare_clients.storage.blob_containers.create(
            bare_group, ACCOUNT, "public-models", {"properties": {"publicAccess": "Blob"}}
        )
    assert refused.value.status_code == 409 and "PublicAccessNotPermitted" in str(refused.value)


def test_the_reader_role_is_on_the_store_container_only_for_the_principal(
    storage: ModelStorage, bare_clients: ArmClients, bare_group: str
) -> None:
    storage.ensure("westeurope", "Standard_LRS", {})
    principal = str(uuid.uuid4())
    assignment_id = storage.grant_reader(principal)
    assert storage.grant_reader(principal) == assignment_id  # granting again is the same assignment
    scope = f"{storage.account_id()}/blobServices/default/containers/{storage.container}"
    on_account = bare_clients.authorization.role_assignments.list_for_scope(storage.account_id(), filter="atScope()")
    assert list(on_account) == []  # not the account: the service reads one container
    assignments = list(bare_clients.authorization.role_assignments.list_for_scope(scope, filter="atScope()"))
    assert [a.id for a in assignments] == [assignment_id]
    (assignment,) = assignments
    assert assignment.scope.lower() == scope.lower() and assignment.principal_id == principal
    assert assignment.role_definition_id.endswith(f"/roleDefinitions/{STORAGE_BLOB_DATA_READER}")
    assert assignment.principal_type == "ServicePrincipal"


def test_deleting_the_resource_group_leaves_nothing(
    storage: ModelStorage, bare_arm_emulator: ArmEmulator, bare_clients: ArmClients, bare_group: str
) -> None:
    storage.ensure("westeurope", "Standard_LRS", {})
    storage.grant_reader(str(uuid.uuid4()))
    bare_clients.resources.resource_groups.begin_delete(bare_group).result()
    with pytest.raises(ResourceNotFoundError):
        bare_clients.storage.blob_containers.get(bare_group, ACCOUNT, CONTAINER)
    bare_arm_emulator.assert_holds_nothing()


def test_a_prod_deployment_gives_its_group_an_identity_that_may_read_the_store(
    arm_emulator: ArmEmulator, clients: ArmClients, monkeypatch: pytest.MonkeyPatch, local_service_image: str
) -> None:
    """The whole `--env prod` provisioning: the group's system-assigned identity holds Storage Blob Data Reader on
    the run's account. The emulator's accounts have no data plane here, so the store holds no model and the group
    fits its built-in models (no MODEL_STORE), as a new run's group does on Azure before `--action publish`."""
    for name, value in arm_emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_POLLING_INTERVAL_S", "0")
    deployment = AciDeployment(ProjectConfig(), AzureEnvironment(), local_image=local_service_image)
    try:
        deployment.start()
        storage = deployment.model_storage()
        assert storage is not None
        group = clients.containers.container_groups.get(deployment.resource_group, deployment.names.container_group)
        assert group.identity.type == "SystemAssigned" and group.identity.principal_id
        scope = f"{storage.account_id()}/blobServices/default/containers/{storage.container}"
        (assignment,) = clients.authorization.role_assignments.list_for_scope(scope, filter="atScope()")
        assert assignment.principal_id == group.identity.principal_id
        assert assignment.role_definition_id.endswith(f"/roleDefinitions/{STORAGE_BLOB_DATA_READER}")
        variables = {variable.name for variable in group.containers[0].environment_variables}
        assert "MODEL_STORE" not in variables and "MODEL_STORE_CONNECTION_STRING" not in variables
        assert clients.storage.blob_containers.get(deployment.resource_group, storage.account, storage.container)
    finally:
        deployment.teardown()
    arm_emulator.assert_holds_nothing()
