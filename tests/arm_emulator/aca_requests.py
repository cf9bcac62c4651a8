"""The Container Apps requests the container app tests send, built from the SDK's models as a deployment would."""

from typing import Any

import httpx
from azure.mgmt.appcontainers import models as aca

from provisioning.config import AutoscaleSection, ProjectConfig, with_azure_target

from .conftest import LOCATION, ArmClients

PORT = 8001
APP = "garch-api"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ONE_REPLICA = {"GARCH_DEPLOYMENT__AUTOSCALE__MIN_REPLICAS": "1", "GARCH_DEPLOYMENT__AUTOSCALE__MAX_REPLICAS": "1"}
"""These tests are about deploying and rolling out: one replica a revision, no scaling (tests/autoscale scales)."""


def one_replica_project() -> ProjectConfig:
    """The default configuration on Container Apps, with one replica a revision (ONE_REPLICA's reason)."""
    project = with_azure_target(ProjectConfig(), "container_apps")
    one = AutoscaleSection(min_replicas=1, max_replicas=1)
    return project.model_copy(update={"deployment": project.deployment.model_copy(update={"autoscale": one})})


def make_environment(clients: ArmClients, group: str, name: str = "garch-env") -> aca.ManagedEnvironment:
    """A managed environment whose logs go to a Log Analytics workspace made beside it."""
    workspace = clients.log_analytics.workspaces.begin_create_or_update(
        group, "garch-logs", {"location": LOCATION, "properties": {"sku": {"name": "PerGB2018"}}}
    ).result()
    key = clients.log_analytics.shared_keys.get_shared_keys(group, "garch-logs").primary_shared_key
    logs = aca.AppLogsConfiguration(
        destination="log-analytics",
        log_analytics_configuration=aca.LogAnalyticsConfiguration(customer_id=workspace.customer_id, shared_key=key),
    )
    body = aca.ManagedEnvironment(
        location=LOCATION, properties=aca.ManagedEnvironmentProperties(app_logs_configuration=logs)
    )
    return clients.apps.managed_environments.begin_create_or_update(group, name, body).result()


def make_registry(clients: ArmClients, group: str) -> Any:
    body = {"location": LOCATION, "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": False}}
    return clients.registries.registries.begin_create(group, "garchregistry", body).result()


def grant_pull(clients: ArmClients, registry_id: str, principal_id: str) -> None:
    subscription = clients.emulator.subscription_id
    role = f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"
    clients.authorization.role_assignments.create(
        registry_id,
        "6a5e4f1c-2b7d-4c1a-9a51-0d1b5e0f3c11",
        {"role_definition_id": role, "principal_id": principal_id, "principal_type": "ServicePrincipal"},
    )


def probes(period_s: int = 1, failures: int = 10) -> list[aca.ContainerAppProbe]:
    def probe(kind: str) -> aca.ContainerAppProbe:
        return aca.ContainerAppProbe(
            type=kind,
            http_get=aca.ContainerAppProbeHttpGet(path="/health", port=PORT),
            period_seconds=period_s,
            failure_threshold=failures,
            timeout_seconds=2,
        )

    return [probe("Startup"), probe("Readiness"), probe("Liveness")]


def app_body(
    environment_id: str,
    image: str,
    *,
    suffix: str | None = "v1",
    mode: str = "Multiple",
    traffic: list[aca.TrafficWeight] | None = None,
    cpu: float = 1.0,
    memory: str = "2Gi",
    env: list[aca.EnvironmentVar] | None = None,
    secrets: list[aca.Secret] | None = None,
    registry: str | None = None,
    target_port: int = PORT,
    probe_period_s: int = 1,
    probe_failures: int = 10,
) -> aca.ContainerApp:
    """The service as a container app: system identity pulling from `registry`, external ingress, probes."""
    container = aca.Container(
        name="api",
        image=image,
        resources=aca.ContainerResources(cpu=cpu, memory=memory),
        env=env if env is not None else [aca.EnvironmentVar(name="WEB_CONCURRENCY", value="1")],
        probes=probes(probe_period_s, probe_failures),
    )
    configuration = aca.Configuration(
        active_revisions_mode=mode,
        secrets=secrets,
        ingress=aca.Ingress(
            external=True,
            target_port=target_port,
            traffic=traffic or [aca.TrafficWeight(latest_revision=True, weight=100)],
        ),
        registries=[aca.RegistryCredentials(server=registry, identity="system")] if registry else None,
    )
    return aca.ContainerApp(
        location=LOCATION,
        identity=aca.ManagedServiceIdentity(type="SystemAssigned"),
        properties=aca.ContainerAppProperties(
            managed_environment_id=environment_id,
            configuration=configuration,
            template=aca.Template(
                revision_suffix=suffix, containers=[container], scale=aca.Scale(min_replicas=1, max_replicas=1)
            ),
        ),
    )


def weights(**by_revision: int) -> list[aca.TrafficWeight]:
    """Traffic entries by revision suffix: weights(v1=50, v2=50)."""
    return [
        aca.TrafficWeight(revision_name=f"{APP}--{suffix}", weight=weight) for suffix, weight in by_revision.items()
    ]


def served_by(address: str, *, host: str | None = None, path: str = "/health") -> tuple[int, str | None]:
    """(status, revision that answered) of one request through the emulator's ingress."""
    headers = {"Host": host} if host else {}
    response = httpx.get(f"http://{address}{path}", headers=headers, timeout=10, trust_env=False)
    return response.status_code, response.headers.get("x-ms-revision-name")
