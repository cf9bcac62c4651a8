"""A revision's `template.scale`, read as Container Apps applies it (learn.microsoft.com, container-apps/scale-app).

Replicas stay within minReplicas (default 0) and maxReplicas (default 10). Rules: `http` (metadata
concurrentRequests, default 10: requests in flight per replica, averaged over 15 s windows) and `custom` of type
`cpu` or `memory` (metadata type Utilization: percent of the replica's CPU or memory; AverageValue: millicores or
bytes per replica) evaluated every pollingInterval (30 s). Any one rule met scales out; the replica count falls only
once demand has stayed lower for cooldownPeriod (300 s). CPU and memory rules cannot scale to zero. Other KEDA
scalers (tcp, azureQueue, custom types beyond cpu/memory) are accepted and never fire here.
"""

from dataclasses import dataclass
from typing import Any

DEFAULT_MIN, DEFAULT_MAX = 0, 10
DEFAULT_CONCURRENT_REQUESTS = 10
HTTP_WINDOW_S = 15.0
DEFAULT_POLLING_INTERVAL_S, DEFAULT_COOLDOWN_S = 30.0, 300.0
RESOURCE_RULES = ("cpu", "memory")


class ScaleRuleError(ValueError):
    """A rule Container Apps would refuse; `path` names the property."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(problem)
        self.path, self.problem = path, problem


@dataclass(frozen=True)
class ResourceRule:
    name: str
    resource: str  # cpu or memory
    utilization_percent: float | None  # metadata type Utilization
    average_value: float | None  # metadata type AverageValue: millicores (cpu) or bytes (memory) per replica


@dataclass(frozen=True)
class ScaleRules:
    min_replicas: int = DEFAULT_MIN
    max_replicas: int = DEFAULT_MAX
    concurrent_requests: int | None = None  # the HTTP rule's target per replica; None: no HTTP rule
    resources: tuple[ResourceRule, ...] = ()
    polling_interval_s: float = DEFAULT_POLLING_INTERVAL_S
    cooldown_s: float = DEFAULT_COOLDOWN_S

    @property
    def autoscales(self) -> bool:
        return self.max_replicas > max(1, self.min_replicas) and (
            self.concurrent_requests is not None or bool(self.resources)
        )

    @classmethod
    def parse(cls, scale: dict[str, Any] | None) -> "ScaleRules":
        """Read `template.scale`; raise ScaleRuleError for what Container Apps refuses."""
        scale = scale or {}
        base = "properties.template.scale"
        low, high = int(scale.get("minReplicas", DEFAULT_MIN)), int(scale.get("maxReplicas", DEFAULT_MAX))
        if low > high:
            raise ScaleRuleError(f"{base}.minReplicas", "must not exceed maxReplicas")
        concurrent, resources = None, []
        for index, rule in enumerate(scale.get("rules") or []):
            path = f"{base}.rules[{index}]"
            kinds = [kind for kind in ("http", "custom", "tcp", "azureQueue") if rule.get(kind) is not None]
            if len(kinds) != 1:
                raise ScaleRuleError(path, "must have exactly one of http, custom, tcp or azureQueue")
            if kinds[0] == "http":
                concurrent = _positive_int(
                    (rule["http"].get("metadata") or {}).get("concurrentRequests", DEFAULT_CONCURRENT_REQUESTS),
                    f"{path}.http.metadata.concurrentRequests",
                )
            elif kinds[0] == "custom" and rule["custom"]["type"].lower() in RESOURCE_RULES:
                resources.append(_resource_rule(rule["name"], rule["custom"], f"{path}.custom"))
        if resources and low == 0:
            raise ScaleRuleError(
                f"{base}.minReplicas", "must be at least 1 with a cpu or memory rule (they cannot scale to zero)"
            )
        return cls(
            min_replicas=low,
            max_replicas=high,
            concurrent_requests=concurrent,
            resources=tuple(resources),
            polling_interval_s=float(scale.get("pollingInterval") or DEFAULT_POLLING_INTERVAL_S),
            cooldown_s=float(scale["cooldownPeriod"])
            if scale.get("cooldownPeriod") is not None
            else DEFAULT_COOLDOWN_S,
        )


def _positive_int(value: object, path: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ScaleRuleError(path, f"must be a whole number, not '{value}'") from None
    if number < 1:
        raise ScaleRuleError(path, "must be at least 1")
    return number


def _resource_rule(name: str, custom: dict[str, Any], path: str) -> ResourceRule:
    metadata = custom.get("metadata") or {}
    kind = str(metadata.get("type", "")).lower()
    value = _positive_int(metadata.get("value"), f"{path}.metadata.value")
    if kind == "utilization":
        return ResourceRule(name, custom["type"].lower(), utilization_percent=float(value), average_value=None)
    if kind == "averagevalue":
        return ResourceRule(name, custom["type"].lower(), utilization_percent=None, average_value=float(value))
    raise ScaleRuleError(f"{path}.metadata.type", "must be Utilization or AverageValue")
