"""Service settings: read once from the environment, validated, and handed to constructors."""

import os
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class Settings(BaseSettings):
    """Everything the service reads from its environment; a bad value stops start-up with one clear line."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    host: str = Field(default="0.0.0.0", description="Address to listen on; 127.0.0.1 keeps it to this machine.")
    port: int = Field(default=8001, ge=1, le=65535, description="Port to listen on.")
    web_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, le=64, description="Worker processes (default: CPUs)."
    )
    log_level: LogLevel = Field(default="info", description="critical, error, warning, info or debug (JSON lines).")
    api_key: SecretStr | None = Field(
        default=None,
        description="Require this value in the X-API-Key header on /predict and /models (not /health, /metrics).",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Requests with a larger body get 413.")
    fit_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Fits running at once per worker; more wait for a free slot. Fits hold the GIL, so a second one "
        "in the same process only adds contention (4 at once cost 2x the CPU per fit): scale with WEB_CONCURRENCY.",
    )
    wrong_key_limit: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="Wrong X-API-Key values one client address may send per WRONG_KEY_WINDOW_S (in each worker) "
        "before its keyed requests get 429; the allowance refills evenly over the window.",
    )
    wrong_key_window_s: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="Seconds over which an address's WRONG_KEY_LIMIT wrong keys refill (one per window / limit).",
    )
    max_request_head_bytes: int = Field(
        default=16_384,
        ge=1024,
        le=1_048_576,
        description="Request line and headers together; a larger head gets 431 and the connection is closed.",
    )
    request_head_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Time a client has to send a request's head, from its connection or its first byte; then 408.",
    )
    request_body_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=3600,
        description="Time a client has to send a request's body once the head is in; then 408.",
    )
    max_connections_per_worker: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Open connections one worker serves; requests on connections beyond it get 503 with "
        "Retry-After and the connection is closed.",
    )
    simulation_seed: int = Field(default=20181231, ge=0, description="Seed of simulated (EGARCH) forecasts.")
    simulations: int = Field(default=1000, ge=100, le=100_000, description="Paths per simulated forecast.")
    model_store: str | None = Field(
        default=None,
        description="Where published models are: a directory, or a Blob container URL. Unset: fit the built-in "
        "models at start-up.",
    )
    model_store_connection_string: SecretStr | None = Field(
        default=None,
        description="For a Blob MODEL_STORE: the storage account's connection string. Unset: a SAS in the URL, "
        "or the managed identity (DefaultAzureCredential).",
    )
    applicationinsights_connection_string: SecretStr | None = Field(
        default=None,
        description="Send request, dependency and exception telemetry to this Application Insights resource. "
        "Unset: no telemetry.",
    )
    supervisor_pid: int | None = Field(
        default=None,
        description="Set by `python -m service`: CPU and memory metrics cover this process tree.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator(
        "api_key",
        "model_store",
        "model_store_connection_string",
        "applicationinsights_connection_string",
        mode="before",
    )
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
