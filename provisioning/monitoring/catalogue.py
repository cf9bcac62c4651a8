"""The alert catalogue: every alert rule defined once (azure_config.yaml, `monitoring.alerts`), validated here.

Both alerting engines are rendered from these entries (prometheus_rules.py for the local environments,
azure_alerts.py for Azure Monitor), so a rule can only differ between them where their metrics differ. The
vocabulary is Azure's (operators, ISO 8601 windows, severities 0-4), the stricter of the two: what Azure would
refuse is refused here, before anything is deployed.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

Signal = Literal["health", "server_error_ratio", "client_error_ratio", "latency_p95", "cpu", "memory"]
Operator = Literal["GreaterThan", "GreaterThanOrEqual"]
Unit = Literal["failed_checks", "percent", "ms", "percent_of_limit"]
Channel = Literal["email", "webhook"]
Frequency = Literal["PT1M", "PT5M", "PT15M", "PT30M", "PT1H"]
"""Azure metric alerts' allowed evaluationFrequency values."""
Window = Literal["PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D"]
"""Azure metric alerts' allowed windowSize values."""

DURATION_SECONDS: dict[str, int] = {
    "PT1M": 60,
    "PT5M": 300,
    "PT15M": 900,
    "PT30M": 1800,
    "PT1H": 3600,
    "PT6H": 6 * 3600,
    "PT12H": 12 * 3600,
    "P1D": 24 * 3600,
}

UNIT_OF_SIGNAL: dict[Signal, Unit] = {
    "health": "failed_checks",
    "server_error_ratio": "percent",
    "client_error_ratio": "percent",
    "latency_p95": "ms",
    "cpu": "percent_of_limit",
    "memory": "percent_of_limit",
}
"""A threshold means something only in its signal's unit; a mismatch is refused rather than converted."""

SEVERITY_NAMES = ("critical", "error", "warning", "informational", "verbose")
"""Azure's Sev0..Sev4, as the `severity` label Alertmanager routes and people read."""


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(gt=0)
    unit: Unit

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


class AlertRule(BaseModel):
    """One catalogue entry: what is measured, when it is bad, how urgent it is and who hears about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]{2,63}$", description="Alert name in every engine (CamelCase).")
    signal: Signal
    operator: Operator
    threshold: Threshold
    window: Window
    frequency: Frequency
    severity: int = Field(ge=0, le=4, description="Azure severity: 0 critical .. 4 verbose.")
    description: str = Field(min_length=10, max_length=500)
    channels: tuple[Channel, ...] = Field(min_length=1)

    @field_validator("channels")
    @classmethod
    def _channels_once_each(cls, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(channels)) != len(channels):
            raise ValueError(f"a channel is listed twice: {list(channels)}")
        return tuple(sorted(channels))

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        expected = UNIT_OF_SIGNAL[self.signal]
        if self.threshold.unit != expected:
            raise ValueError(f"{self.name}: a {self.signal} threshold is in {expected}, not {self.threshold.unit}")
        if DURATION_SECONDS[self.window] < DURATION_SECONDS[self.frequency]:
            raise ValueError(f"{self.name}: window {self.window} is shorter than frequency {self.frequency}")
        if self.threshold.unit in ("percent", "percent_of_limit") and self.threshold.value > 100:
            raise ValueError(f"{self.name}: {self.threshold} is over 100%")
        if self.signal == "health" and (self.operator != "GreaterThanOrEqual" or not self.threshold.value.is_integer()):
            raise ValueError(f"{self.name}: a health rule counts whole failed checks with GreaterThanOrEqual")
        return self

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES[self.severity]

    @property
    def window_s(self) -> int:
        return DURATION_SECONDS[self.window]

    @property
    def frequency_s(self) -> int:
        return DURATION_SECONDS[self.frequency]


def _rule(**fields: object) -> AlertRule:
    return AlertRule.model_validate(fields)


DEFAULT_ALERTS: tuple[AlertRule, ...] = (
    _rule(
        name="ApiUnhealthy",
        signal="health",
        operator="GreaterThanOrEqual",
        threshold={"value": 3, "unit": "failed_checks"},
        window="PT5M",
        frequency="PT1M",
        severity=0,
        description="The API failed consecutive health checks: it is down, unreachable or has no models loaded.",
        channels=("email", "webhook"),
    ),
    _rule(
        name="ApiServerErrorRatioHigh",
        signal="server_error_ratio",
        operator="GreaterThan",
        threshold={"value": 5, "unit": "percent"},
        window="PT5M",
        frequency="PT1M",
        severity=1,
        description="More than 5% of API requests answered 5xx: the service is failing its callers.",
        channels=("email", "webhook"),
    ),
    _rule(
        name="ApiClientErrorRatioHigh",
        signal="client_error_ratio",
        operator="GreaterThan",
        threshold={"value": 50, "unit": "percent"},
        window="PT5M",
        frequency="PT1M",
        severity=3,
        description="Most API requests answered 4xx: a client sends bad requests or an API key is wrong.",
        channels=("email", "webhook"),
    ),
    _rule(
        name="ApiLatencyP95High",
        signal="latency_p95",
        operator="GreaterThan",
        threshold={"value": 2500, "unit": "ms"},
        window="PT5M",
        frequency="PT1M",
        severity=2,
        description="The 95th percentile response time of an API route is over 2.5 s.",
        channels=("email", "webhook"),
    ),
    _rule(
        name="ApiCpuHigh",
        signal="cpu",
        operator="GreaterThan",
        threshold={"value": 80, "unit": "percent_of_limit"},
        window="PT5M",
        frequency="PT1M",
        severity=2,
        description="The service uses more than 80% of its CPU limit.",
        channels=("email", "webhook"),
    ),
    _rule(
        name="ApiMemoryHigh",
        signal="memory",
        operator="GreaterThan",
        threshold={"value": 90, "unit": "percent_of_limit"},
        window="PT5M",
        frequency="PT1M",
        severity=2,
        description="The service uses more than 90% of its memory limit.",
        channels=("email", "webhook"),
    ),
)


def check_catalogue(rules: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
    """Names are unique (they are the identity of a rule in both engines) and at most one rule watches health."""
    names = [rule.name for rule in rules]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"alert names must be unique; repeated: {', '.join(twice)}")
    if sum(rule.signal == "health" for rule in rules) > 1:
        raise ValueError("at most one alert rule may watch the health signal")
    return rules


GIB = 2**30


class ServiceLimits(BaseModel):
    """The sizes a percent_of_limit threshold is relative to: deployment.cpu and deployment.memory_gb.

    Azure sizes containers in GB of 2**30 bytes (the cgroup limit of a 1.5 GB group is 1.5 GiB), so a memory
    threshold is a fraction of memory_gb * 2**30 bytes in both engines.
    """

    model_config = ConfigDict(frozen=True)

    cpu_cores: float = Field(gt=0)
    memory_bytes: int = Field(gt=0)

    @classmethod
    def from_sizes(cls, cpu: float, memory_gb: float) -> "ServiceLimits":
        return cls(cpu_cores=cpu, memory_bytes=round(memory_gb * GIB))
