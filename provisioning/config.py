"""azure_config.yaml, the environment and .env, read into one typed object that rejects what it does not know."""

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)
from typing_extensions import Self

from provisioning.config_models import (
    ModelsSection,
)
from provisioning.config_overrides import override_variables, unknown_override, variable_for
from provisioning.config_section import Section
from provisioning.monitoring.catalogue import DEFAULT_ALERTS, AlertRule, check_catalogue
from service.config import Settings as ServiceSettings

DEFAULT_CONFIG_PATH = Path("azure_config.yaml")


class ModelStorageSection(Section):
    """The prod model store: a storage account per run (its container is models.store's `<prefix>-prod`)."""

    account_prefix: str = Field(
        default="garchmodels",
        pattern=r"^[a-z0-9]{3,18}$",
        description="The account is <prefix><run id>: lower-case letters and digits, 24 at most with the run id.",
    )
    sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS"] = "Standard_LRS"
    auth: Literal["identity", "connection_string"] = Field(
        default="identity",
        description="identity: the group's managed identity with Storage Blob Data Reader on the container (no "
        "secret in the group); connection_string: the account key as a secureValue (full access, a fallback).",
    )


AzureTarget = Literal["container_instances", "container_apps"]
AZURE_TARGETS: tuple[AzureTarget, ...] = ("container_instances", "container_apps")
CONSUMPTION_CPU_STEP, CONSUMPTION_MAX_CPU = 0.25, 4.0


def consumption_pair_error(cpu: float, memory_gi: float) -> str | None:
    """Why Container Apps' Consumption plan refuses this size (None when it accepts it): CPU in 0.25 vCPU steps
    from 0.25 to 4, memory twice the CPU in Gi (0.25/0.5Gi .. 4/8Gi)."""
    steps = cpu / CONSUMPTION_CPU_STEP
    if cpu <= 0 or cpu > CONSUMPTION_MAX_CPU or abs(steps - round(steps)) > 1e-9 or abs(memory_gi - 2 * cpu) > 1e-9:
        return (
            f"cpu {cpu:g} / memory {memory_gi:g}Gi is not a Container Apps Consumption size: CPU in steps of 0.25 "
            "from 0.25 to 4 vCPU with memory twice the CPU in Gi (e.g. 1.0/2.0, 0.5/1.0)"
        )
    return None


class ContainerAppsSection(Section):
    """The app's size on Container Apps (its Consumption plan accepts fewer sizes than ACI, so deployment.cpu and
    memory_gb do not apply there); its replicas come from deployment.autoscale."""

    cpu: float = Field(default=1.0, gt=0, le=CONSUMPTION_MAX_CPU)
    memory_gi: float = Field(default=2.0, gt=0, le=2 * CONSUMPTION_MAX_CPU)

    @model_validator(mode="after")
    def _a_consumption_size(self) -> Self:
        error = consumption_pair_error(self.cpu, self.memory_gi)
        if error:
            raise ValueError(error)
        return self


class AzureSection(Section):
    target: AzureTarget = Field(
        default="container_instances",
        description="container_instances: one ACI container group; container_apps: a Container App with revisions.",
    )
    location: str = "westeurope"
    resource_group_prefix: str = Field(default="garch-mlops", pattern=r"^[-\w._()]{1,60}$")
    container_registry: str = Field(default="garchmlopsacr", pattern=r"^[a-zA-Z0-9]{5,50}$")
    container_group: str = Field(default="garch-api", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    dns_label_prefix: str = Field(default="garch-api", pattern=r"^[a-z][-a-z0-9]{0,40}$")
    delete_after_hours: float = Field(default=8, gt=0, le=24 * 30)
    registry_sku: Literal["Basic", "Standard", "Premium"] = "Basic"
    log_retention_days: int = Field(default=30, ge=30, le=730)
    operation_timeout_s: float = Field(default=900, gt=0, le=7200)
    rollback_on_failed_verification: bool = True
    model_storage: ModelStorageSection = ModelStorageSection()
    container_apps: ContainerAppsSection = ContainerAppsSection()
    secrets: Literal["inline", "key_vault"] = Field(
        default="inline",
        description="Container Apps: inline, each secret a Container Apps secret; key_vault, each a secret in a Key "
        "Vault made for the run (RBAC, no purge protection: teardown purges it) that the app reads with its identity.",
    )
    key_vault_prefix: str = Field(
        default="garchkv", pattern=r"^[a-z][a-z0-9]{2,17}$", description="The run's vault is <prefix><run id>."
    )


class RolloutSection(Section):
    """How a new revision takes over on Container Apps: checked on its label's URL at 0%, then given the traffic
    in `steps` (percent), each held `hold_s` seconds while its error ratio, p95 latency and health are watched."""

    steps: tuple[int, ...] = Field(default=(10, 50, 100), min_length=1, max_length=10)
    hold_s: float = Field(default=60, ge=0, le=3600, description="How long each step is watched before the next.")
    poll_interval_s: float = Field(default=2.0, gt=0, le=60)
    min_requests: int = Field(
        default=5, ge=1, le=10_000, description="Requests a step must see (the watch sends its own) to judge it."
    )
    label: str = Field(default="canary", pattern=r"^[a-z][a-z0-9-]{0,31}$")
    keep_previous_active: bool = Field(
        default=True,
        description="Keep the replaced revision running at 0% so --action rollback is one traffic change "
        "(it costs its replicas); false deactivates it once the new one has all the traffic.",
    )

    @model_validator(mode="after")
    def _steps_climb_to_all(self) -> Self:
        steps = self.steps
        if any(not 0 < step <= 100 for step in steps) or list(steps) != sorted(set(steps)) or steps[-1] != 100:
            raise ValueError(f"rollout steps {list(steps)}: percentages rising from above 0 and ending at 100")
        return self


CONTAINER_APPS_MAX_REPLICAS = 1000


class AutoscaleSection(Section):
    """How many replicas serve, and what adds more: Container Apps' scale rules and AKS's HorizontalPodAutoscaler
    are both rendered from here. Any one rule that is met scales out; scale-in waits `cooldown_s`."""

    min_replicas: int = Field(default=2, ge=0, description="0: scale to zero (cold starts; HTTP rule only).")
    max_replicas: int = Field(default=10, ge=1)
    cpu_percent: int | None = Field(
        default=70, ge=1, le=100, description="Average CPU use per replica, percent of its CPU; null: no CPU rule."
    )
    concurrent_requests: int | None = Field(
        default=10, ge=1, le=10_000, description="Requests in flight per replica (averaged over 15 s); null: no rule."
    )
    polling_interval_s: int = Field(default=30, ge=1, le=3600, description="How often the CPU rule is evaluated.")
    cooldown_s: int = Field(default=300, ge=0, le=3600, description="How long demand must stay low before scale-in.")

    @model_validator(mode="after")
    def _bounds_the_platforms_accept(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} exceeds max_replicas {self.max_replicas}")
        if self.max_replicas > CONTAINER_APPS_MAX_REPLICAS:
            raise ValueError(
                f"max_replicas {self.max_replicas} is over Container Apps' limit of {CONTAINER_APPS_MAX_REPLICAS}"
            )
        if self.min_replicas == 0 and self.cpu_percent is not None:
            raise ValueError("min_replicas 0 with a CPU rule: CPU rules cannot scale to zero (set cpu_percent: null)")
        return self


def _service_default(name: str) -> Any:
    """The service's own default for a setting, so the two cannot drift apart."""
    return ServiceSettings.model_fields[name].default


class RequestLimitsSection(Section):
    """The service's request limits (its settings of the same names, upper-cased, in its environment): what one
    client can make a worker hold, and how many wrong API keys an address may try."""

    max_request_head_bytes: int = Field(default=_service_default("max_request_head_bytes"), ge=1024, le=1_048_576)
    request_head_timeout_s: float = Field(default=_service_default("request_head_timeout_s"), gt=0, le=600)
    request_body_timeout_s: float = Field(default=_service_default("request_body_timeout_s"), gt=0, le=3600)
    max_connections_per_worker: int = Field(default=_service_default("max_connections_per_worker"), ge=1)
    wrong_key_limit: int = Field(default=_service_default("wrong_key_limit"), ge=1)
    wrong_key_window_s: float = Field(default=_service_default("wrong_key_window_s"), gt=0)

    def service_env(self) -> dict[str, str]:
        return {name.upper(): f"{value:g}" if isinstance(value, float) else str(value) for name, value in self}


class DeploymentSection(Section):
    image_name: str = "garch-mlops"
    cpu: float = Field(default=1.0, gt=0, le=4)
    memory_gb: float = Field(default=1.5, gt=0, le=16)
    port: int = Field(default=8001, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=16)
    restart_policy: Literal["Always", "OnFailure", "Never"] = "Always"
    startup_timeout_s: float = Field(default=120, gt=0, le=3600)
    rollout: RolloutSection = RolloutSection()
    autoscale: AutoscaleSection = AutoscaleSection()
    request_limits: RequestLimitsSection = RequestLimitsSection()


class NotificationsSection(Section):
    """Where alerts go. Addresses are not secrets; SMTP is only needed for email from the local Alertmanager."""

    email: tuple[str, ...] = Field(default=(), description="Email receivers of the action group.")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    action_group: str = Field(default="garch-alerts", pattern=r"^[-A-Za-z0-9_.]{1,260}$")
    action_group_short_name: str = Field(default="garchalerts", min_length=1, max_length=12)
    smtp_smarthost: str | None = Field(default=None, pattern=r"^\S+:\d+$")
    smtp_from: str | None = None


DEFAULT_WEB_TEST_LOCATIONS = (
    "emea-nl-ams-azr",
    "emea-gb-db3-azr",
    "emea-fr-pra-edge",
    "us-va-ash-azr",
    "apac-sg-sin-azr",
)


class MonitoringSection(Section):
    health_check_interval_s: float = Field(default=30, gt=0)
    failed_health_checks_before_alert: int = Field(default=3, ge=1)
    web_test_locations: tuple[str, ...] = Field(
        default=DEFAULT_WEB_TEST_LOCATIONS, min_length=1, description="Application Insights availability locations."
    )
    notifications: NotificationsSection = NotificationsSection()
    alerts: tuple[AlertRule, ...] = DEFAULT_ALERTS

    @model_validator(mode="after")
    def _catalogue_agrees_with_health_checks(self) -> Self:
        check_catalogue(self.alerts)
        for rule in self.alerts:
            if rule.signal == "health" and rule.threshold.value != self.failed_health_checks_before_alert:
                raise ValueError(
                    f"{rule.name}: threshold {rule.threshold.value:g} failed checks differs from "
                    f"failed_health_checks_before_alert {self.failed_health_checks_before_alert}"
                )
        if len(self.web_test_locations) < self.failed_health_checks_before_alert:
            raise ValueError(
                f"{len(self.web_test_locations)} web test locations cannot report "
                f"{self.failed_health_checks_before_alert} failed checks (Azure counts failed locations)"
            )
        return self


class LatencyLimits(Section):
    p50: float = Field(gt=0)
    p95: float = Field(gt=0)
    p99: float = Field(gt=0)


Endpoint = Literal["health", "models_list", "predict", "predict_custom"]


class LoadThresholds(Section):
    max_failure_ratio: float = Field(default=0.01, ge=0, le=1)
    min_rps: float = Field(default=5, ge=0)
    latency_ms: dict[Endpoint, LatencyLimits] = Field(default_factory=dict)


DEFAULT_TASK_WEIGHTS: dict[Endpoint, int] = {"health": 1, "models_list": 1, "predict": 6, "predict_custom": 2}


class LoadSection(Section):
    users: int = Field(default=10, ge=1, le=1000)
    spawn_rate: float = Field(default=5, gt=0)
    duration_s: float = Field(default=60, gt=0, le=3600)
    workers: int = Field(
        default=1, ge=1, le=64, description="locust worker processes (beyond 1: a master and N workers)."
    )
    task_weights: dict[Endpoint, int] = Field(default_factory=DEFAULT_TASK_WEIGHTS.copy)
    thresholds: LoadThresholds = LoadThresholds()


class TestingSection(Section):
    contract_examples: int = Field(default=25, ge=1, le=10_000)
    restart_ready_within_s: float = Field(default=30, gt=0)
    load: LoadSection = LoadSection()


class CostSection(Section):
    """What the monthly estimate assumes about use (`mlops-deploy --action cost`): the rest comes from the config."""

    busy_hours_per_day: float = Field(
        default=8, ge=0, le=24, description="Hours a day the minimum replicas serve (idle ones cost less on ACA)."
    )
    requests_per_month: int = Field(default=2_000_000, ge=0)
    log_gb_per_day: float = Field(default=0.2, ge=0, description="Logs and telemetry ingested into Log Analytics.")
    model_store_gb: float = Field(default=0.05, ge=0)
    aks_node: str = Field(default="D2s v5", description="The AKS node pool's VM meter (Virtual Machines, Linux).")
    aks_node_allocatable_vcpus: float = Field(default=1.9, gt=0, description="Per node, after the kubelet's reserve.")


class ProjectConfig(BaseSettings):
    """The project's configuration; secrets are deliberately not part of it."""

    model_config = SettingsConfigDict(
        env_prefix="GARCH_",
        env_nested_delimiter="__",
        env_file=".env",
        yaml_file=DEFAULT_CONFIG_PATH,
        extra="forbid",
        frozen=True,
    )

    azure: AzureSection = AzureSection()
    deployment: DeploymentSection = DeploymentSection()
    monitoring: MonitoringSection = MonitoringSection()
    testing: TestingSection = TestingSection()
    models: ModelsSection = ModelsSection()
    cost: CostSection = CostSection()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings, YamlConfigSettingsSource(settings_cls)


def with_azure_target(project: ProjectConfig, target: AzureTarget | None) -> ProjectConfig:
    """`project` with azure.target replaced (a command-line flag overriding the file); unchanged for None."""
    if target is None or target == project.azure.target:
        return project
    return project.model_copy(update={"azure": project.azure.model_copy(update={"target": target})})


class ConfigError(ValueError):
    """A configuration value is unknown, mistyped or out of range; the message names the key."""


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> ProjectConfig:
    """Read the YAML at `path` with environment and .env overrides; raise ConfigError with one clear line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found (copy azure_config.example.yaml)")

    class _FromFile(ProjectConfig):
        model_config = SettingsConfigDict(yaml_file=path)

    overrides = override_variables(os.environ)
    unknown = unknown_override(ProjectConfig, overrides)
    if unknown:
        raise ConfigError(unknown)
    try:
        loaded = _FromFile()
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        detail = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        variable = variable_for(first["loc"])
        where = f"{path}: {key}" if variable not in overrides else variable  # the variable overrides the file
        raise ConfigError(f"{where}: {detail}{more}") from None
    return ProjectConfig.model_validate(loaded.model_dump())
