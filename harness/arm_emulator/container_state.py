"""What the runtime reports of a running container: Docker's state of it, and the events ACI lists for it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from docker import DockerClient
from docker.models.containers import Container

from harness.arm_emulator.lro import utc_now


@dataclass(frozen=True)
class ContainerState:
    status: str  # Docker's: created, running, restarting, exited, dead
    exit_code: int | None
    started_at: str | None
    finished_at: str | None
    restart_count: int
    last_exit_code: int | None  # of the run that ended last (also known while a restarted container runs)


@dataclass
class ContainerEvent:
    name: str
    message: str
    type: str = "Normal"
    count: int = 1
    first: str = field(default_factory=utc_now)
    last: str = field(default_factory=utc_now)

    def as_arm(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "firstTimestamp": self.first,
            "lastTimestamp": self.last,
            "name": self.name,
            "message": self.message,
            "type": self.type,
        }


def read_state(client: DockerClient, container: Container) -> ContainerState:
    """Docker's view of one container, with the exit code of its last run even after Docker restarted it."""
    state = container.attrs.get("State", {})
    restarts = int(container.attrs.get("RestartCount", 0))
    status = str(state.get("Status"))
    last_exit = state.get("ExitCode") if status in ("restarting", "exited", "dead") else None
    if last_exit is None and restarts:
        last_exit = _last_exit_code(client, container)
    return ContainerState(
        status=status,
        exit_code=state.get("ExitCode"),
        started_at=state.get("StartedAt"),
        finished_at=state.get("FinishedAt"),
        restart_count=restarts,
        last_exit_code=last_exit,
    )


def _last_exit_code(client: DockerClient, container: Container) -> int | None:
    """The exit code of a restarted container's previous run (Docker resets State.ExitCode on restart)."""
    created = datetime.fromisoformat(container.attrs["Created"][:19]).replace(tzinfo=timezone.utc)
    events = client.api.events(
        since=created,
        until=datetime.now(timezone.utc) + timedelta(seconds=1),  # Docker counts whole seconds
        filters={"container": container.id, "event": "die"},
        decode=True,
    )
    codes = [event.get("Actor", {}).get("Attributes", {}).get("exitCode") for event in events]
    codes = [code for code in codes if code is not None]
    return int(codes[-1]) if codes else None
