"""The managed environment and the container app we ask ARM for, as the SDK's models: pure functions of the
configuration, so what goes to Azure is checked offline.

Every secret (API_KEY, connection strings) is a Container Apps secret that the container's environment names by
`secretRef`; no secret value is ever a plain env value. With `azure.secrets: key_vault` the secret holds only a Key
Vault URL that the app's identity reads. The app pulls from the run's registry with its
system-assigned identity (no registry password). Probes check /health: startup (the service fits or loads its
models), readiness (gets traffic) and liveness (restarted when it stops answering).
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from azure.mgmt.appcontainers import models as aca

from provisioning.config import AutoscaleSection, ProjectConfig, consumption_pair_error
from provisioning.environments.azure.container_group_spec import WorkspaceLogin
from provisioning.environments.azure.names import PROJECT_TAG, RUN_TAG, AciNames
from provisioning.errors import DeploymentError

CONTAINER_NAME = "api"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
IMAGE_TAG = "garch-mlops-image"
SERVING_PREFIX, BOOTSTRAP_PREFIX = "v", "init"


class UnsupportedSize(DeploymentError):
    """The configured CPU/memory pair is not one Container Apps' Consumption plan accepts."""


def check_size(cpu: float, memory_gi: float) -> None:
    """Refuse, before any ARM call, a size Azure would refuse after the environment and registry exist."""
    error = consumption_pair_error(cpu, memory_gi)
    if error:
        raise UnsupportedSize(f"azure.container_apps: {error}")


def secret_name(variable: str) -> str:
    """A Container Apps secret name (lower-case letters, digits, '-') for an environment variable."""
    return re.sub(r"[^a-z0-9-]", "-", variable.lower()).strip("-")


def revision_name(app: str, suffix: str) -> str:
    return f"{app}--{suffix}"


@dataclass(frozen=True)
class AppRequest:
    """Everything a revision of the app is made from; its hash names the revision, so the same request is the
    same revision and a changed one (image, env, a secret, the size) a new one."""

    location: str
    environment_id: str
    image: str
    cpu: float
    memory_gi: float
    port: int
    autoscale: AutoscaleSection
    env: Mapping[str, str]
    secrets: Mapping[str, str]
    registry_server: str
    tags: Mapping[str, str]
    key_vault_secrets: Mapping[str, str] = field(default_factory=dict)
    """Secrets read from Key Vault with the app's identity: environment variable -> secret URL (no value here)."""

    @classmethod
    def for_run(
        cls,
        project: ProjectConfig,
        names: AciNames,
        image: str,
        *,
        environment_id: str,
        registry_server: str,
        env: Mapping[str, str],
        secrets: Mapping[str, str],
    ) -> "AppRequest":
        """`image` with azure.container_apps' size, deployment.autoscale's replicas and rules, deployment.port,
        under the run's tags."""
        sizes, deployment = project.azure.container_apps, project.deployment
        check_size(sizes.cpu, sizes.memory_gi)
        return cls(
            location=project.azure.location,
            environment_id=environment_id,
            image=image,
            cpu=sizes.cpu,
            memory_gi=sizes.memory_gi,
            port=deployment.port,
            autoscale=deployment.autoscale,
            env={"PORT": str(deployment.port), "WEB_CONCURRENCY": str(deployment.web_concurrency), **env},
            secrets=secrets,
            registry_server=registry_server,
            tags={"project": PROJECT_TAG, RUN_TAG: names.run_id},
        )

    def spec_hash(self) -> str:
        material = {
            "image": self.image,
            "size": [self.cpu, self.memory_gi],
            "port": self.port,
            "autoscale": self.autoscale.model_dump(),
            "env": dict(self.env),
            "secrets": dict(self.secrets),
            "registry": self.registry_server,
            "key_vault_secrets": dict(self.key_vault_secrets),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def revision_suffix(self, prefix: str = SERVING_PREFIX) -> str:
        return f"{prefix}{self.spec_hash()[:10]}"


def managed_environment(location: str, workspace: WorkspaceLogin, tags: Mapping[str, str]) -> aca.ManagedEnvironment:
    """A Consumption environment whose apps' console and system logs go to the run's Log Analytics workspace."""
    logs = aca.AppLogsConfiguration(
        destination="log-analytics",
        log_analytics_configuration=aca.LogAnalyticsConfiguration(
            customer_id=workspace.workspace_id, shared_key=workspace.workspace_key
        ),
    )
    return aca.ManagedEnvironment(
        location=location, tags=dict(tags), properties=aca.ManagedEnvironmentProperties(app_logs_configuration=logs)
    )


def probes(port: int) -> list[aca.ContainerAppProbe]:
    """/health three ways: startup allows 30 s to fit or load the models; readiness takes a replica out of the
    ingress after three misses; liveness restarts one that stopped answering for 30 s."""
    health = aca.ContainerAppProbeHttpGet(path="/health", port=port, scheme="HTTP")
    return [
        aca.ContainerAppProbe(
            type="Startup", http_get=health, initial_delay_seconds=1, period_seconds=3, failure_threshold=10,
            timeout_seconds=3,
        ),
        aca.ContainerAppProbe(
            type="Readiness", http_get=health, period_seconds=5, failure_threshold=3, timeout_seconds=3
        ),
        aca.ContainerAppProbe(
            type="Liveness", http_get=health, period_seconds=10, failure_threshold=3, timeout_seconds=5
        ),
    ]  # fmt: skip


HTTP_RULE, CPU_RULE = "http-concurrency", "cpu-utilization"


def scale(autoscale: AutoscaleSection) -> aca.Scale:
    """Replicas between the bounds and the rules that add them: KEDA's HTTP rule (requests in flight per replica,
    averaged over 15 s) and its CPU rule (average utilization of the replicas' CPU); any one met scales out."""
    rules = []
    if autoscale.concurrent_requests is not None:
        http = aca.HttpScaleRule(metadata={"concurrentRequests": str(autoscale.concurrent_requests)})
        rules.append(aca.ScaleRule(name=HTTP_RULE, http=http))
    if autoscale.cpu_percent is not None:
        cpu = aca.CustomScaleRule(type="cpu", metadata={"type": "Utilization", "value": str(autoscale.cpu_percent)})
        rules.append(aca.ScaleRule(name=CPU_RULE, custom=cpu))
    return aca.Scale(
        min_replicas=autoscale.min_replicas,
        max_replicas=autoscale.max_replicas,
        polling_interval=autoscale.polling_interval_s,
        cooldown_period=autoscale.cooldown_s,
        rules=rules or None,
    )


def traffic(*weights: tuple[str, int], label: tuple[str, str] | None = None) -> list[aca.TrafficWeight]:
    """Weights by revision name, and optionally a label on a revision (which then has its own URL)."""
    entries = [aca.TrafficWeight(revision_name=name, weight=weight) for name, weight in weights]
    for entry in entries:
        if label is not None and entry.revision_name == label[0]:
            entry.label = label[1]
    return entries


def container_app(request: AppRequest, *, suffix: str, weights: list[aca.TrafficWeight]) -> aca.ContainerApp:
    """The app with revision `<app>--<suffix>` of `request`, traffic as `weights`; Multiple revisions mode, so
    a new image is a new revision beside the old one rather than a replacement."""
    env = [aca.EnvironmentVar(name=k, value=v) for k, v in sorted(request.env.items())]
    env += [
        aca.EnvironmentVar(name=k, secret_ref=secret_name(k))
        for k in sorted({**request.secrets, **request.key_vault_secrets})
    ]
    secrets = [aca.Secret(name=secret_name(k), value=v) for k, v in sorted(request.secrets.items())]
    secrets += [
        aca.Secret(name=secret_name(k), key_vault_url=url, identity="system")
        for k, url in sorted(request.key_vault_secrets.items())
    ]
    configuration = aca.Configuration(
        active_revisions_mode="Multiple",
        secrets=secrets or None,
        ingress=aca.Ingress(external=True, target_port=request.port, transport="auto", traffic=weights),
        registries=[aca.RegistryCredentials(server=request.registry_server, identity="system")],
    )
    container = aca.Container(
        name=CONTAINER_NAME,
        image=request.image,
        resources=aca.ContainerResources(cpu=request.cpu, memory=f"{request.memory_gi:g}Gi"),
        env=env,
        probes=probes(request.port),
    )
    template = aca.Template(
        revision_suffix=suffix,
        containers=[container],
        scale=scale(request.autoscale),
    )
    return aca.ContainerApp(
        location=request.location,
        tags={**request.tags, IMAGE_TAG: request.image},
        identity=aca.ManagedServiceIdentity(type="SystemAssigned"),
        properties=aca.ContainerAppProperties(
            managed_environment_id=request.environment_id, configuration=configuration, template=template
        ),
    )
