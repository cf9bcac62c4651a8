"""What we ask ARM for, checked as ARM will see it: serialised by the SDK itself."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from azure.mgmt.containerinstance import ContainerInstanceManagementClient

from provisioning.config import AzureSection
from provisioning.environments.azure.container_group_spec import (
    IMAGE_TAG,
    PREVIOUS_IMAGE_TAG,
    SPEC_HASH_TAG,
    ContainerGroupRequest,
    RegistryLogin,
    WorkspaceLogin,
    container_group,
)
from provisioning.environments.azure.credentials import StaticTokenCredential, make_credential
from provisioning.environments.azure.names import AciNames
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.environments.azure.sweep import expired
from provisioning.errors import EnvironmentUnavailable


def request(**overrides: object) -> ContainerGroupRequest:
    values: dict[str, object] = {
        "location": "westeurope",
        "image": "acr.example/garch-mlops:sha-abc",
        "cpu": 1.0,
        "memory_gb": 1.5,
        "port": 8001,
        "dns_label": "garch-api-abc123",
        "restart_policy": "Always",
        "env": {"WEB_CONCURRENCY": "2"},
        "secure_env": {"API_KEY": "k3y"},
        "registry": RegistryLogin("acr.example", "user", "pw"),
        "workspace": WorkspaceLogin("ws-id", "ws-key"),
        "tags": {"project": "garch-mlops"},
    }
    return ContainerGroupRequest(**{**values, **overrides})  # type: ignore[arg-type]


def serialised(group: object) -> dict:  # type: ignore[type-arg]
    client = ContainerInstanceManagementClient(StaticTokenCredential("t"), "sub")
    return client._serialize.body(group, "ContainerGroup")  # type: ignore[no-any-return]


def test_container_group_body_has_probes_secrets_and_diagnostics() -> None:
    body = serialised(container_group(request()))
    properties = body["properties"]
    container = properties["containers"][0]["properties"]
    assert container["image"] == "acr.example/garch-mlops:sha-abc"
    assert container["resources"]["requests"] == {"cpu": 1.0, "memoryInGB": 1.5}
    assert {"name": "API_KEY", "secureValue": "k3y"} in container["environmentVariables"]
    assert {"name": "WEB_CONCURRENCY", "value": "2"} in container["environmentVariables"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": 8001, "scheme": "http"}
    address = properties["ipAddress"]
    assert address["ports"] == [{"protocol": "TCP", "port": 8001}]
    assert (address["type"], address["dnsNameLabel"]) == ("Public", "garch-api-abc123")
    assert properties["imageRegistryCredentials"] == [{"server": "acr.example", "username": "user", "password": "pw"}]
    assert properties["diagnostics"]["logAnalytics"] == {"workspaceId": "ws-id", "workspaceKey": "ws-key"}
    assert properties["osType"] == "Linux" and properties["restartPolicy"] == "Always"


def test_tags_record_the_spec_and_the_previous_image() -> None:
    group = container_group(request(), previous_image="acr.example/garch-mlops:sha-old")
    assert group.tags[IMAGE_TAG] == "acr.example/garch-mlops:sha-abc"
    assert group.tags[PREVIOUS_IMAGE_TAG] == "acr.example/garch-mlops:sha-old"
    assert group.tags[SPEC_HASH_TAG] == request().spec_hash()
    assert PREVIOUS_IMAGE_TAG not in container_group(request(), previous_image=request().image).tags


@pytest.mark.parametrize(
    "change", [{"image": "other:1"}, {"cpu": 2.0}, {"secure_env": {"API_KEY": "rotated"}}, {"env": {}}]
)
def test_any_change_that_matters_changes_the_spec_hash(change: dict[str, object]) -> None:
    assert request(**change).spec_hash() != request().spec_hash()
    assert request().spec_hash() == request().spec_hash()


def test_names_are_random_per_run_and_valid_for_azure() -> None:
    first, second = AciNames.for_run(AzureSection()), AciNames.for_run(AzureSection())
    assert first.resource_group != second.resource_group
    assert first.registry.isalnum() and 5 <= len(first.registry) <= 50
    assert AciNames.for_run(AzureSection(), "abc123").resource_group == "garch-mlops-abc123"


def test_sweep_picks_only_this_projects_expired_groups() -> None:
    def group(name: str, **tags: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, tags=tags)

    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    groups = [
        group("old", project="garch-mlops", DeleteAfter="2026-06-01T11:59:59Z"),
        group("fresh", project="garch-mlops", DeleteAfter="2026-06-01T12:00:01Z"),
        group("foreign", project="other", DeleteAfter="2020-01-01T00:00:00Z"),
        group("untagged", project="garch-mlops"),
        group("garbled", project="garch-mlops", DeleteAfter="tomorrow"),
    ]
    assert expired(groups, now) == ["old"]


def test_credentials_need_a_subscription_and_a_private_endpoint_for_static_tokens() -> None:
    with pytest.raises(EnvironmentUnavailable, match="AZURE_SUBSCRIPTION_ID"):
        make_credential(AzureEnvironment(subscription_id=""))
    with pytest.raises(EnvironmentUnavailable, match="AZURE_ARM_ENDPOINT"):
        make_credential(AzureEnvironment(subscription_id="s", arm_token="t"))  # type: ignore[arg-type]
    credential = make_credential(
        AzureEnvironment(subscription_id="s", arm_token="t", arm_endpoint="https://127.0.0.1:8443")  # type: ignore[arg-type]
    )
    assert credential.get_token("https://127.0.0.1:8443/.default").token == "t"
