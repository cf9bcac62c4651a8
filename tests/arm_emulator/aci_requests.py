"""The container group requests the container group tests send, built from the SDK's models as a deployment does."""

from azure.mgmt.containerinstance import models as aci

from .conftest import LOCATION, ArmClients

PORT = 8001


def registry_credentials(clients: ArmClients, group: str) -> aci.ImageRegistryCredential:
    """An ACR resource whose login server is the local registry, and its admin credentials."""
    registries = clients.registries.registries
    body = {"location": LOCATION, "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": True}}
    registry = registries.begin_create(group, "garchregistry", body).result()
    credentials = registries.list_credentials(group, "garchregistry")
    return aci.ImageRegistryCredential(
        server=registry.login_server, username=credentials.username, password=credentials.passwords[0].value
    )


def container_group(
    image: str,
    credentials: aci.ImageRegistryCredential | None,
    *,
    env: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    restart_policy: str = "Always",
    diagnostics: aci.ContainerGroupDiagnostics | None = None,
) -> aci.ContainerGroup:
    variables = [aci.EnvironmentVariable(name=name, value=value) for name, value in (env or {}).items()]
    variables += [aci.EnvironmentVariable(name=name, secure_value=value) for name, value in (secrets or {}).items()]
    probe = aci.ContainerProbe(http_get=aci.ContainerHttpGet(path="/health", port=PORT), period_seconds=10)
    return aci.ContainerGroup(
        location=LOCATION,
        os_type="Linux",
        restart_policy=restart_policy,
        containers=[
            aci.Container(
                name="api",
                image=image,
                resources=aci.ResourceRequirements(requests=aci.ResourceRequests(cpu=1.0, memory_in_gb=1.5)),
                ports=[aci.ContainerPort(port=PORT)],
                environment_variables=variables,
                readiness_probe=probe,
                liveness_probe=probe,
            )
        ],
        image_registry_credentials=[credentials] if credentials else None,
        ip_address=aci.IpAddress(type="Public", ports=[aci.Port(port=PORT)], dns_name_label="garch-api-ci"),
        diagnostics=diagnostics,
    )


def monitored_container_group(clients: ArmClients, group: str, image: str) -> aci.ContainerGroup:
    """The service as a deployment runs it: registry credentials, a secret API key, Log Analytics diagnostics and
    an App Insights connection string (a workspace and a component made in `group` for it)."""
    credentials = registry_credentials(clients, group)
    workspace = clients.log_analytics.workspaces.begin_create_or_update(
        group, "garch-logs", {"location": LOCATION, "properties": {"sku": {"name": "PerGB2018"}}}
    ).result()
    keys = clients.log_analytics.shared_keys.get_shared_keys(group, "garch-logs")
    insights = clients.app_insights.components.create_or_update(
        group,
        "garch-insights",
        {"location": LOCATION, "kind": "web", "application_type": "web", "workspace_resource_id": workspace.id},
    )
    diagnostics = aci.ContainerGroupDiagnostics(
        log_analytics=aci.LogAnalytics(workspace_id=workspace.customer_id, workspace_key=keys.primary_shared_key)
    )
    return container_group(
        image,
        credentials,
        env={"WEB_CONCURRENCY": "1"},
        secrets={"API_KEY": "emulator-secret", "APPLICATIONINSIGHTS_CONNECTION_STRING": insights.connection_string},
        diagnostics=diagnostics,
    )
