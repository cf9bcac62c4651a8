"""Faults a test injects: ARM's throttling, transient and terminal errors, failed operations, crashing containers.

A rule matches requests by method, resource type, resource name and action (all optional, case-insensitive) and
fires for the next `times` matching requests. Status polls of long-running operations never match.

`crash_on_start` matches a PUT of a container group (its containers exit at once with `exit_code`), or a PUT or
PATCH of a container app: the revision that request creates crashes on start. `never_ready` matches a container
app PUT or PATCH: the revision it creates runs, but its containers never listen, so no probe ever passes.
"""

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness.arm_emulator.errors import ArmError

# Answered instead of handling the request.
IMMEDIATE_FAULTS = frozenset({"throttle", "server_error", "conflict", "quota", "error"})
# Change how the request is handled: the operation ends Failed / the container group's containers crash.
HANDLING_FAULTS = frozenset({"lro_failed", "crash_on_start", "never_ready"})
# The faults that shape the containers a request starts, and the (type, methods) each can match.
CONTAINER_FAULT_TARGETS = {
    "microsoft.containerinstance/containergroups": frozenset({"PUT"}),
    "microsoft.app/containerapps": frozenset({"PUT", "PATCH"}),
}
FAULT_KINDS = IMMEDIATE_FAULTS | HANDLING_FAULTS

CONTAINER_GROUPS = "microsoft.containerinstance/containergroups"
CONTAINER_APPS = "microsoft.app/containerapps"


@dataclass(frozen=True)
class RequestFacts:
    """What a fault rule can match on."""

    method: str
    resource_type: str | None
    name: str | None
    action: str | None
    location: str | None = None


@dataclass
class FaultRule:
    kind: str
    times: int = 1
    method: str | None = None
    resource_type: str | None = None
    name: str | None = None
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    hits: int = 0

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> "FaultRule":
        """Build from the control API's JSON: {"fault": kind, "match": {...}, "times": n, ...params}."""
        if not isinstance(body, dict):
            raise ArmError(400, "InvalidFault", "a fault is a JSON object")
        kind = body.get("fault")
        if kind not in FAULT_KINDS:
            raise ArmError(400, "InvalidFault", f"'fault' must be one of {sorted(FAULT_KINDS)}, not {kind!r}")
        match = body.get("match") or {}
        unknown = set(match) - {"method", "type", "name", "action"}
        if unknown:
            raise ArmError(400, "InvalidFault", f"unknown match keys {sorted(unknown)}")
        times = body.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or times < 1:
            raise ArmError(400, "InvalidFault", f"'times' must be a positive integer, not {times!r}")
        params = {key: value for key, value in body.items() if key not in {"fault", "match", "times"}}
        rule = cls(
            kind=kind,
            times=times,
            method=match.get("method"),
            resource_type=match.get("type"),
            name=match.get("name"),
            action=match.get("action"),
            params=params,
        )
        rule._check()
        return rule

    def _check(self) -> None:
        resource_type = (self.resource_type or "").lower()
        methods = CONTAINER_FAULT_TARGETS.get(resource_type, frozenset())
        if self.kind == "crash_on_start" and (self.method or "PUT").upper() not in methods:
            raise ArmError(
                400,
                "InvalidFault",
                "crash_on_start matches PUT Microsoft.ContainerInstance/containerGroups, "
                "or PUT/PATCH Microsoft.App/containerApps",
            )
        if self.kind == "never_ready" and (
            resource_type != CONTAINER_APPS or (self.method or "PUT").upper() not in methods
        ):
            raise ArmError(400, "InvalidFault", "never_ready matches PUT or PATCH Microsoft.App/containerApps only")
        if self.kind == "lro_failed" and (self.method or "").upper() not in {"PUT", "DELETE", "POST"}:
            raise ArmError(400, "InvalidFault", "lro_failed needs match.method PUT, DELETE or POST")
        if self.kind == "error":
            status = self.params.get("status")
            if not isinstance(status, int) or not 400 <= status <= 599 or not self.params.get("code"):
                raise ArmError(400, "InvalidFault", "an 'error' fault needs an HTTP 'status' (400-599) and a 'code'")
        retry_after = self.params.get("retry_after", 1)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise ArmError(400, "InvalidFault", "'retry_after' is a whole number of seconds")

    def matches(self, facts: RequestFacts) -> bool:
        def same(expected: str | None, actual: str | None) -> bool:
            return expected is None or (actual is not None and expected.lower() == actual.lower())

        return (
            same(self.method, facts.method)
            and same(self.resource_type, facts.resource_type)
            and same(self.name, facts.name)
            and same(self.action, facts.action)
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "fault": self.kind,
            "match": {"method": self.method, "type": self.resource_type, "name": self.name, "action": self.action},
            "remaining": self.times,
            "hits": self.hits,
            **self.params,
        }

    def as_error(self, facts: RequestFacts) -> ArmError:
        """The answer to a request an immediate fault fired on."""
        name = facts.name or "the resource"
        if self.kind == "throttle":
            retry_after = int(self.params.get("retry_after", 1))
            writes = facts.method.upper() in {"PUT", "PATCH", "DELETE", "POST"}
            return ArmError(
                429,
                self.params.get("code", "SubscriptionRequestsThrottled"),
                self.params.get(
                    "message",
                    f"Number of '{'write' if writes else 'read'}' requests for subscription exceeded. "
                    f"Please try again after '{retry_after}' seconds after additional tries.",
                ),
                headers={
                    "Retry-After": str(retry_after),
                    f"x-ms-ratelimit-remaining-subscription-{'writes' if writes else 'reads'}": "0",
                },
            )
        if self.kind == "server_error":
            return ArmError(
                int(self.params.get("status", 500)),
                self.params.get("code", "InternalServerError"),
                self.params.get("message", "Encountered internal server error. Retry the request."),
            )
        if self.kind == "conflict":
            return ArmError(
                409,
                self.params.get("code", "Conflict"),
                self.params.get("message", f"The operation on '{name}' conflicts with another operation in progress."),
            )
        if self.kind == "quota":
            is_group = (facts.resource_type or "").lower() == CONTAINER_GROUPS
            location = facts.location or "the region"
            default_code = "ContainerGroupQuotaReached" if is_group else "QuotaExceeded"
            default_message = (
                f"Resource type 'Microsoft.ContainerInstance/containerGroups' container group quota "
                f"'ContainerGroups' exceeded in region '{location}'. Limit: '100', Usage: '100' Requested: '1'."
                if is_group
                else f"Operation could not be completed as it results in exceeding approved quota for "
                f"'{facts.resource_type}' in '{location}'."
            )
            return ArmError(
                int(self.params.get("status", 400)),
                self.params.get("code", default_code),
                self.params.get("message", default_message),
            )
        return ArmError(int(self.params["status"]), str(self.params["code"]), str(self.params.get("message", "")))


class FaultBook:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def take(self, facts: RequestFacts, applicable: frozenset[str] = FAULT_KINDS) -> FaultRule | None:
        """The first rule of an `applicable` kind matching `facts`, spent once; None when no rule matches."""
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and rule.kind in applicable and rule.matches(facts):
                    rule.times -= 1
                    rule.hits += 1
                    return rule
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
