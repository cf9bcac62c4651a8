"""The ACI container group we ask ARM for, as the SDK's models: a pure function of the configuration."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from azure.mgmt.containerinstance.models import (
    Container,
    ContainerGroup,
    ContainerGroupDiagnostics,
    ContainerGroupIdentity,
    ContainerHttpGet,
    ContainerPort,
    ContainerProbe,
    EnvironmentVariable,
    ImageRegistryCredential,
    IpAddress,
    LogAnalytics,
    Port,
    ResourceRequests,
    ResourceRequirements,
)

from provisioning.config import ProjectConfig
from provisioning.environments.azure.names import PROJECT_TAG, RUN_TAG, AciNames

CONTAINER_NAME = "api"
SPEC_HASH_TAG = "garch-mlops-spec"
IMAGE_TAG = "garch-mlops-image"
PREVIOUS_IMAGE_TAG = "garch-mlops-previous-image"


@dataclass(frozen=True)
class RegistryLogin:
    server: str
    username: str
    password: str


@dataclass(frozen=True)
class WorkspaceLogin:
    workspace_id: str
    workspace_key: str


@dataclass(frozen=True)
class ContainerGroupRequest:
    location: str
    image: str
    cpu: float
    memory_gb: float
    port: int
    dns_label: str
    restart_policy: str
    env: Mapping[str, str]
    secure_env: Mapping[str, str]
    registry: RegistryLogin | None
    workspace: WorkspaceLogin | None
    tags: Mapping[str, str]
    # A system-assigned managed identity, for the model store's Storage Blob Data Reader role.
    identity: bool = False

    @classmethod
    def for_run(
        cls,
        project: ProjectConfig,
        names: AciNames,
        image: str,
        *,
        env: Mapping[str, str],
        secure_env: Mapping[str, str],
        registry: RegistryLogin | None,
        workspace: WorkspaceLogin | None,
        identity: bool,
    ) -> "ContainerGroupRequest":
        """`image` with the configured sizes, port and restart policy, under the run's names and tags."""
        deployment = project.deployment
        return cls(
            location=project.azure.location,
            image=image,
            cpu=deployment.cpu,
            memory_gb=deployment.memory_gb,
            port=deployment.port,
            dns_label=names.dns_label,
            restart_policy=deployment.restart_policy,
            env={"PORT": str(deployment.port), "WEB_CONCURRENCY": str(deployment.web_concurrency), **env},
            secure_env=secure_env,
            registry=registry,
            workspace=workspace,
            tags={"project": PROJECT_TAG, RUN_TAG: names.run_id},
            identity=identity,
        )

    def spec_hash(self) -> str:
        """Identifies what would be deployed (secrets included, hashed): equal hashes mean nothing to change."""
        material = {
            "image": self.image,
            "cpu": self.cpu,
            "memory_gb": self.memory_gb,
            "port": self.port,
            "dns_label": self.dns_label,
            "restart_policy": self.restart_policy,
            "env": dict(self.env),
            "secure_env": dict(self.secure_env),
            "registry": self.registry and self.registry.server,
            "workspace": self.workspace and self.workspace.workspace_id,
            **({"identity": "SystemAssigned"} if self.identity else {}),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def container_group(request: ContainerGroupRequest, *, previous_image: str | None = None) -> ContainerGroup:
    """Readiness and liveness probes on /health, secrets as secureValue, diagnostics to Log Analytics."""
    health = ContainerHttpGet(path="/health", port=request.port, scheme="http")
    environment = [EnvironmentVariable(name=k, value=v) for k, v in sorted(request.env.items())] + [
        EnvironmentVariable(name=k, secure_value=v) for k, v in sorted(request.secure_env.items())
    ]
    tags = {**request.tags, SPEC_HASH_TAG: request.spec_hash(), IMAGE_TAG: request.image}
    if previous_image and previous_image != request.image:
        tags[PREVIOUS_IMAGE_TAG] = previous_image
    return ContainerGroup(
        location=request.location,
        tags=tags,
        os_type="Linux",
        identity=ContainerGroupIdentity(type="SystemAssigned") if request.identity else None,
        restart_policy=request.restart_policy,
        containers=[
            Container(
                name=CONTAINER_NAME,
                image=request.image,
                resources=ResourceRequirements(
                    requests=ResourceRequests(cpu=request.cpu, memory_in_gb=request.memory_gb)
                ),
                ports=[ContainerPort(port=request.port, protocol="TCP")],
                environment_variables=environment,
                readiness_probe=ContainerProbe(
                    http_get=health, initial_delay_seconds=3, period_seconds=5, failure_threshold=3, timeout_seconds=3
                ),
                liveness_probe=ContainerProbe(
                    http_get=health, initial_delay_seconds=30, period_seconds=10, failure_threshold=3, timeout_seconds=5
                ),
            )
        ],
        ip_address=IpAddress(
            type="Public", ports=[Port(port=request.port, protocol="TCP")], dns_name_label=request.dns_label
        ),
        image_registry_credentials=(
            [
                ImageRegistryCredential(
                    server=request.registry.server,
                    username=request.registry.username,
                    password=request.registry.password,
                )
            ]
            if request.registry
            else None
        ),
        diagnostics=(
            ContainerGroupDiagnostics(
                log_analytics=LogAnalytics(
                    workspace_id=request.workspace.workspace_id, workspace_key=request.workspace.workspace_key
                )
            )
            if request.workspace
            else None
        ),
    )
