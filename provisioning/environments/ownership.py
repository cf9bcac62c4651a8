"""Who owns what a session starts: the session's id and the process that will tear it down, as labels.

Containers carry them as Docker labels and processes as environment variables (readable in /proc), as
testcontainers' reaper marks its containers. An owner is a pid plus that process's start time, so a pid the kernel
has handed to another process since does not pass for the owner.
"""

import os
from dataclasses import dataclass
from pathlib import Path

SESSION_LABEL = "io.garch-mlops.session"
OWNER_LABEL = "io.garch-mlops.owner"
SESSION_VARIABLE = "GARCH_MLOPS_SESSION"
OWNER_VARIABLE = "GARCH_MLOPS_OWNER"


def process_start_time(pid: int, proc: Path = Path("/proc")) -> int | None:
    """When `pid` started, in clock ticks after boot (field 22 of /proc/<pid>/stat); None if it does not exist."""
    try:
        fields = (proc / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if fields[0] != b"Z" else None  # a zombie has exited already


@dataclass(frozen=True)
class Owner:
    pid: int
    started: int

    @classmethod
    def of(cls, pid: int) -> "Owner":
        started = process_start_time(pid)
        if started is None:
            raise ProcessLookupError(f"no process {pid}")
        return cls(pid, started)

    @classmethod
    def parse(cls, token: str) -> "Owner | None":
        """The owner a label names (`pid:start`); None for a label that is not one."""
        pid, _, started = token.partition(":")
        if not (pid.isdigit() and started.isdigit()):
            return None
        return cls(int(pid), int(started))

    @property
    def token(self) -> str:
        return f"{self.pid}:{self.started}"

    def alive(self) -> bool:
        return process_start_time(self.pid) == self.started


@dataclass(frozen=True)
class Ownership:
    """The marks a deployment puts on what it starts."""

    session: str
    owner: Owner | None = None
    """None for a deployment meant to outlive the command that made it (`mlops-deploy --action deploy`)."""

    def labels(self) -> dict[str, str]:
        owner = {OWNER_LABEL: self.owner.token} if self.owner else {}
        return {SESSION_LABEL: self.session, **owner}

    def variables(self) -> dict[str, str]:
        owner = {OWNER_VARIABLE: self.owner.token} if self.owner else {}
        return {SESSION_VARIABLE: self.session, **owner}

    @classmethod
    def for_this_process(cls, session: str) -> "Ownership":
        return cls(session, Owner.of(os.getpid()))
