"""The prod model store as ARM will see it (serialised by the SDKs themselves), and the key's connection string
as the Blob SDK reads it (against Azurite)."""

import base64
import json
import re
import uuid

import pytest
from pydantic import ValidationError

from harness.pytest_plugin.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from provisioning.config import AzureSection, ModelStorageSection
from provisioning.config_models import ModelStoreSection
from provisioning.environments.azure.container_group_spec import container_group
from provisioning.environments.azure.model_storage import (
    STORAGE_BLOB_DATA_READER,
    account_parameters,
    connection_string,
    container_name,
    role_assignment,
    role_assignment_name,
    serving_env,
)
from provisioning.environments.azure.names import AciNames, storage_account_name
from service.model_store import StoreUnreachable, open_store

from .test_azure_specs import request, serialised

pytestmark = pytest.mark.unit

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
URL = "https://garchmodelsabc123.blob.core.windows.net/garch-models-prod"


def test_the_account_is_storagev2_https_tls12_and_never_public() -> None:
    # azure-mgmt-storage's models are their own wire format (JSON mappings in ARM's casing).
    body = json.loads(
        json.dumps(account_parameters("westeurope", "Standard_LRS", {"project": "garch-mlops"}), default=dict)
    )
    assert body["kind"] == "StorageV2" and body["sku"] == {"name": "Standard_LRS"}
    assert body["properties"] == {
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "supportsHttpsTrafficOnly": True,
    }
    assert body["tags"] == {"project": "garch-mlops"}


@pytest.mark.parametrize("prefix", ["garchmodels", "g4rchmodelsverylongprefix"[:18], "abc"])
def test_account_names_keep_azures_rules_and_the_run_id(prefix: str) -> None:
    name = storage_account_name(prefix, "a1b2c3")
    assert ACCOUNT_NAME.match(name) and name.endswith("a1b2c3")
    names = AciNames.for_run(AzureSection(model_storage=ModelStorageSection(account_prefix=prefix)))
    assert ACCOUNT_NAME.match(names.storage_account) and names.storage_account.endswith(names.run_id)


def test_the_configuration_refuses_prefixes_azure_would_refuse() -> None:
    for bad in ("Garch", "garch-models", "ab", "a" * 19):
        with pytest.raises(ValidationError):
            ModelStorageSection(account_prefix=bad)
    with pytest.raises(ValidationError):
        ModelStorageSection(auth="sas")  # type: ignore[arg-type]
    assert ModelStorageSection().auth == "identity"


def test_the_container_is_the_projects_prod_container() -> None:
    assert container_name(ModelStoreSection(container_prefix="garch-models")) == "garch-models-prod"


def test_role_assignments_are_named_by_what_they_grant() -> None:
    scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct"
    principal = str(uuid.uuid4())
    name = role_assignment_name(scope, principal)
    assert uuid.UUID(name) and name == role_assignment_name(scope.upper(), principal)
    assert name != role_assignment_name(scope, str(uuid.uuid4()))
    body = role_assignment("sub", principal).serialize()["properties"]
    assert body["roleDefinitionId"] == (
        f"/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_READER}"
    )
    assert body["principalId"] == principal and body["principalType"] == "ServicePrincipal"


def test_identity_mode_gives_the_group_an_identity_and_the_store_but_no_secret() -> None:
    env, secure = serving_env(URL, "identity", None)
    body = serialised(container_group(request(env=env, secure_env=secure, identity=True)))
    variables = body["properties"]["containers"][0]["properties"]["environmentVariables"]
    assert body["identity"] == {"type": "SystemAssigned"}
    assert {"name": "MODEL_STORE", "value": URL} in variables
    assert not [v for v in variables if v["name"] == "MODEL_STORE_CONNECTION_STRING"]
    assert request(identity=True).spec_hash() != request().spec_hash()
    assert "identity" not in serialised(container_group(request()))


def test_connection_string_mode_passes_the_key_as_a_secure_value_only() -> None:
    env, secure = serving_env(URL, "connection_string", "AccountKey=k")
    variables = serialised(container_group(request(env=env, secure_env=secure)))["properties"]["containers"][0][
        "properties"
    ]["environmentVariables"]
    assert {"name": "MODEL_STORE_CONNECTION_STRING", "secureValue": "AccountKey=k"} in variables
    with pytest.raises(ValueError, match="connection string"):
        serving_env(URL, "connection_string", None)


def test_the_key_connection_string_opens_the_account_with_the_blob_sdk(azurite: Azurite) -> None:
    """What the deployer builds from listKeys and the account's blob endpoint reaches the account it names."""
    location = azurite.new_container_url("prod")
    store = open_store(
        location, connection_string=connection_string(ACCOUNT, ACCOUNT_KEY, azurite.blob_endpoint + "/"), create=True
    )
    assert store.location == location and store.names() == []
    wrong_key = connection_string(ACCOUNT, base64.b64encode(bytes(64)).decode(), azurite.blob_endpoint)
    with pytest.raises(StoreUnreachable, match="access refused"):
        open_store(location, connection_string=wrong_key).names()
