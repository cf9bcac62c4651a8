"""Container Apps' health probes, as the emulator runs them against a replica's address.

A probe is an HTTP GET (any status 200-399 passes) or a TCP connect. A replica is ready once its startup probe (if
any) has passed and its readiness probe passes. The deadline for becoming ready is the startup probe's window
plus the readiness probe's (each `initialDelaySeconds + periodSeconds * failureThreshold`); with no startup or
readiness probe declared it is Container Apps' default startup window, 240 s.
"""

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_WINDOW_S = 240.0
DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 1}


@dataclass(frozen=True)
class Probe:
    kind: str  # "startup", "readiness" or "liveness"
    port: int
    path: str | None  # None: a TCP probe
    initial_delay_s: int
    period_s: int
    failure_threshold: int
    timeout_s: int

    @classmethod
    def from_arm(cls, probe: dict[str, Any]) -> "Probe":
        settings = {**DEFAULTS, **{key: value for key, value in probe.items() if value is not None}}
        http = probe.get("httpGet")
        return cls(
            kind=str(probe.get("type", "Liveness")).lower(),
            port=int((http or probe.get("tcpSocket") or {})["port"]),
            path=(http.get("path") or "/") if http else None,
            initial_delay_s=int(settings["initialDelaySeconds"]),
            period_s=int(settings["periodSeconds"]),
            failure_threshold=int(settings["failureThreshold"]),
            timeout_s=int(settings["timeoutSeconds"]),
        )

    @property
    def window_s(self) -> float:
        return float(self.initial_delay_s + self.period_s * self.failure_threshold)

    def passes(self, ip: str) -> bool:
        if self.path is None:
            try:
                with socket.create_connection((ip, self.port), timeout=self.timeout_s):
                    return True
            except OSError:
                return False
        try:
            response = httpx.get(f"http://{ip}:{self.port}{self.path}", timeout=self.timeout_s, trust_env=False)
        except httpx.HTTPError:
            return False
        return 200 <= response.status_code < 400


@dataclass(frozen=True)
class ProbeSet:
    startup: Probe | None
    readiness: Probe | None
    liveness: Probe | None

    @classmethod
    def from_containers(cls, containers: Iterable[dict[str, Any]], target_port: int | None) -> "ProbeSet":
        """The probes of a template's containers; an app with ingress and no probes gets a TCP readiness probe."""
        found: dict[str, Probe] = {}
        for container in containers:
            for probe in container.get("probes") or []:
                parsed = Probe.from_arm(probe)
                found.setdefault(parsed.kind, parsed)
        if target_port is not None and "startup" not in found and "readiness" not in found:
            found["readiness"] = Probe("readiness", target_port, None, 0, 1, int(DEFAULT_WINDOW_S), 1)
        return cls(found.get("startup"), found.get("readiness"), found.get("liveness"))

    @property
    def ready_deadline_s(self) -> float:
        window = sum(probe.window_s for probe in (self.startup, self.readiness) if probe is not None)
        return window or DEFAULT_WINDOW_S

    @property
    def poll_interval_s(self) -> float:
        periods = [probe.period_s for probe in (self.startup, self.readiness) if probe is not None]
        return min(0.5, *periods) if periods else 0.5

    @property
    def monitor_period_s(self) -> float:
        return float(self.readiness.period_s) if self.readiness else 5.0
