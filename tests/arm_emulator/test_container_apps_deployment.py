"""ContainerAppsDeployment provisioned against the emulator with the real SDK clients: the app serves /health
through its ingress, ARM holds its secrets as secretRefs (no value in the environment), its identity holds AcrPull
on the run's registry, a new image becomes a new revision that takes over all traffic, and teardown leaves the
emulator empty. Needs Docker and docker-registry.
"""

from collections.abc import Iterator

import httpx
import pytest

from harness.arm_emulator.client import ArmEmulator
from provisioning.config import RolloutSection
from provisioning.environments.azure.container_apps.app_spec import ACR_PULL
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.azure.container_apps.registry_pull import KEY_VAULT_SECRETS_USER
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.errors import RolloutRolledBack
from provisioning.monitoring.azure_alerts import ACA_NAMESPACE

from .aca_requests import one_replica_project
from .conftest import ArmClients

pytestmark = pytest.mark.emulator

API_KEY = "a-key-that-must-never-be-plain"


@pytest.fixture
def emulated_azure(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> AzureEnvironment:
    """AZURE_* pointing every management client at the emulator, as `--env prod --azure-emulator` does."""
    for name, value in {**arm_emulator.environment(), "AZURE_POLLING_INTERVAL_S": "0"}.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("AZURE_INGRESS_SCHEME", "http")
    return AzureEnvironment()


@pytest.fixture
def deployed(
    emulated_azure: AzureEnvironment, local_service_image: str, arm_emulator: ArmEmulator
) -> Iterator[ContainerAppsDeployment]:
    project = one_replica_project()
    deployment = ContainerAppsDeployment(
        project, emulated_azure, env={"WEB_CONCURRENCY": "1"}, secure_env={"API_KEY": API_KEY},
        local_image=local_service_image,
    )  # fmt: skip
    with deployment:
        yield deployment
    arm_emulator.assert_holds_nothing()


def test_the_app_serves_health_keeps_its_secrets_as_refs_pulls_with_acr_pull_and_leaves_nothing(
    deployed: ContainerAppsDeployment, clients: ArmClients
) -> None:
    assert deployed.url.startswith("http://127.0.0.")
    health = httpx.get(f"{deployed.url}/health", timeout=10)
    assert health.status_code == 200
    assert httpx.get(f"{deployed.url}/models/list", timeout=10).status_code == 401  # the API key reached the app

    app = clients.apps.container_apps.get(deployed.resource_group, deployed.names.app)
    configuration, container = app.properties.configuration, app.properties.template.containers[0]
    assert configuration.active_revisions_mode == "Multiple"
    assert configuration.ingress.external and configuration.ingress.target_port == 8001
    env = {variable.name: variable for variable in container.env}
    assert env["API_KEY"].value is None and env["API_KEY"].secret_ref == "api-key"
    assert env["APPLICATIONINSIGHTS_CONNECTION_STRING"].secret_ref == "applicationinsights-connection-string"
    assert API_KEY not in str(app.as_dict())
    assert [(r.server, r.identity) for r in configuration.registries] == [
        (configuration.registries[0].server, "system")
    ]

    registry = clients.registries.registries.get(deployed.resource_group, deployed.names.registry)
    assignments = list(clients.authorization.role_assignments.list_for_scope(registry.id))
    assert any(
        a.principal_id == app.identity.principal_id and a.role_definition_id.endswith(ACR_PULL) for a in assignments
    )
    revisions = {r.name: r.properties for r in clients.apps.container_apps_revisions.list_revisions(
        deployed.resource_group, deployed.names.app)}  # fmt: skip
    assert revisions[deployed.revision].traffic_weight == 100 and revisions[deployed.revision].active
    bootstrap = [name for name in revisions if name != deployed.revision]
    assert len(bootstrap) == 1 and not revisions[bootstrap[0]].active

    alerts = {a.name: a for a in clients.monitor.metric_alerts.list_by_resource_group(deployed.resource_group)}
    cpu = alerts["ApiCpuHigh"].criteria.all_of[0]
    assert (cpu.metric_namespace, cpu.metric_name, cpu.threshold) == (ACA_NAMESPACE, "UsageNanoCores", 0.8e9)
    assert alerts["ApiCpuHigh"].scopes == [app.id]


@pytest.mark.parametrize("keep_previous", [True, False], ids=["previous-stands-by", "previous-deactivated"])
def test_a_new_image_is_rolled_out_as_a_new_revision_and_the_old_one_stands_by_or_stops_as_configured(
    deployed: ContainerAppsDeployment, clients: ArmClients, keep_previous: bool
) -> None:
    first = deployed.revision
    deployed._env["GARCH_REVISION_MARK"] = "2"  # a changed template: a new revision of the same image
    quick = RolloutSection(hold_s=0, poll_interval_s=0.2, keep_previous_active=keep_previous)

    deployed.deploy_image(deployed.version, rollout=quick)

    assert deployed.revision != first and deployed.previous_revision == first
    assert deployed.last_rollout is not None and [s.percent for s in deployed.last_rollout.steps] == [10, 50, 100]
    assert httpx.get(f"{deployed.url}/health", timeout=10).status_code == 200
    old = clients.apps.container_apps_revisions.get_revision(deployed.resource_group, deployed.names.app, first)
    assert old.properties.active is keep_previous and not old.properties.traffic_weight

    assert deployed.rollback() == first  # standing by: one traffic change; stopped: activated, ready, then moved

    assert deployed.revision == first and deployed.previous_revision is None
    back = clients.apps.container_apps_revisions.get_revision(deployed.resource_group, deployed.names.app, first)
    assert back.properties.active and back.properties.traffic_weight == 100
    assert httpx.get(f"{deployed.url}/health", timeout=10).status_code == 200


def test_key_vault_secrets_are_read_by_the_apps_identity_and_teardown_purges_the_soft_deleted_vault(
    emulated_azure: AzureEnvironment, local_service_image: str, arm_emulator: ArmEmulator, clients: ArmClients
) -> None:
    """azure.secrets key_vault: the app's configuration holds Key Vault URLs only, its identity reads them (the API
    key reaches the service), and the vault a group deletion only soft-deletes is purged by teardown."""
    project = one_replica_project()
    project = project.model_copy(update={"azure": project.azure.model_copy(update={"secrets": "key_vault"})})
    deployment = ContainerAppsDeployment(
        project, emulated_azure, env={"WEB_CONCURRENCY": "1"}, secure_env={"API_KEY": API_KEY},
        local_image=local_service_image,
    )  # fmt: skip
    try:
        deployment.start()

        assert httpx.get(f"{deployment.url}/models/list", timeout=10).status_code == 401
        assert httpx.get(f"{deployment.url}/models/list", headers={"X-API-Key": API_KEY}, timeout=10).status_code == 200
        group, vault = deployment.resource_group, deployment.names.key_vault
        app = clients.apps.container_apps.get(group, deployment.names.app)
        secrets = {secret.name: secret for secret in app.properties.configuration.secrets}
        assert secrets["api-key"].key_vault_url == f"https://{vault}.vault.azure.net/secrets/api-key"
        assert secrets["api-key"].identity == "system" and secrets["api-key"].value is None
        assert API_KEY not in str(app.as_dict())
        group_id = f"/subscriptions/{arm_emulator.subscription_id}/resourceGroups/{group}"
        vault_id = f"{group_id}/providers/Microsoft.KeyVault/vaults/{vault}"
        assignments = list(clients.authorization.role_assignments.list_for_scope(vault_id))
        assert any(
            a.principal_id == app.identity.principal_id and a.role_definition_id.endswith(KEY_VAULT_SECRETS_USER)
            for a in assignments
        )

        # Without the role, a new revision cannot read its secrets: it fails, and the rollout sends nothing to it.
        for assignment in assignments:
            if assignment.role_definition_id.endswith(KEY_VAULT_SECRETS_USER):
                clients.authorization.role_assignments.delete(vault_id, assignment.name)
        serving = deployment.revision
        deployment._env["GARCH_REVISION_MARK"] = "2"
        unreadable = r"check 'readiness' failed: .*Unable to get value using Managed identity system for secret api-key"
        with pytest.raises(RolloutRolledBack, match=unreadable):
            deployment.deploy_image(deployment.version, rollout=RolloutSection(hold_s=0, poll_interval_s=0.2))
        assert deployment.revision == serving
        assert httpx.get(f"{deployment.url}/models/list", headers={"X-API-Key": API_KEY}, timeout=10).status_code == 200

        clients.resources.resource_groups.begin_delete(group).result()  # what a group deletion alone leaves
        assert [item["name"] for item in arm_emulator.resources() if item["type"].endswith("deletedVaults")] == [vault]
    finally:
        removed = deployment.teardown()

    assert removed == [f"key vault {vault} (purged after its soft delete)"]  # the group was gone already
    arm_emulator.assert_holds_nothing()
