"""What the container runtime is asked to run, and the failure it reports when it cannot."""

from collections.abc import Sequence
from dataclasses import dataclass


class RuntimeFailure(Exception):
    """A container group could not be deployed; carries the ARM error code ACI would report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    env: dict[str, str]
    command: list[str] | None
    cpu: float
    memory_gb: float
    args: list[str] | None = None  # the image's CMD replaced (Container Apps' `args`)


@dataclass(frozen=True)
class GroupSpec:
    resource_id: str
    name: str
    containers: Sequence[ContainerSpec]
    ports: Sequence[tuple[int, str]]  # (port, "TCP"|"UDP") published on the group's address
    restart_policy: str
    registry_auth: dict[str, dict[str, str]]  # registry host -> {"username", "password"}
    crash_exit_code: int | None = None
    hang_on_start: bool = False  # run, but never listen on any port (a container that never becomes ready)
