"""azure_config.yaml, the environment and .env, read into one typed object that rejects what it does not know."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_PATH = Path("azure_config.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AzureSection(Section):
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


class DeploymentSection(Section):
    image_name: str = "garch-mlops"
    cpu: float = Field(default=1.0, gt=0, le=4)
    memory_gb: float = Field(default=1.5, gt=0, le=16)
    port: int = Field(default=8001, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=16)
    restart_policy: Literal["Always", "OnFailure", "Never"] = "Always"
    startup_timeout_s: float = Field(default=120, gt=0, le=3600)


class MonitoringSection(Section):
    health_check_interval_s: float = Field(default=30, gt=0)
    failed_health_checks_before_alert: int = Field(default=3, ge=1)


class LatencyLimits(Section):
    p50: float = Field(gt=0)
    p95: float = Field(gt=0)
    p99: float = Field(gt=0)


Endpoint = Literal["health", "models_list", "predict", "predict_custom"]


class LoadThresholds(Section):
    max_failure_ratio: float = Field(default=0.01, ge=0, le=1)
    min_rps: float = Field(default=5, ge=0)
    latency_ms: dict[Endpoint, LatencyLimits] = {}


class LoadSection(Section):
    users: int = Field(default=10, ge=1, le=1000)
    spawn_rate: float = Field(default=5, gt=0)
    duration_s: float = Field(default=60, gt=0, le=3600)
    task_weights: dict[Endpoint, int] = {"health": 1, "models_list": 1, "predict": 6, "predict_custom": 2}
    thresholds: LoadThresholds = LoadThresholds()


class TestingSection(Section):
    contract_examples: int = Field(default=25, ge=1, le=10_000)
    restart_ready_within_s: float = Field(default=30, gt=0)
    load: LoadSection = LoadSection()


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


class ConfigError(ValueError):
    """A configuration value is unknown, mistyped or out of range; the message names the key."""


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> ProjectConfig:
    """Read the YAML at `path` with environment and .env overrides; raise ConfigError with one clear line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found (copy azure_config.example.yaml)")

    class _FromFile(ProjectConfig):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        loaded = _FromFile()
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        detail = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise ConfigError(f"{path}: {key}: {detail}{more}") from None
    return ProjectConfig.model_validate(loaded.model_dump())
