"""The API as a uvicorn subprocess on a free loopback port: needs nothing but Python."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioning.environments.base import Deployment
from provisioning.environments.ownership import Owner, Ownership
from provisioning.errors import DeploymentError
from provisioning.waiting import wait_for_http_ok
from service import __version__

STOP_GRACE_S = 10.0


def free_loopback_port() -> int:
    """A port the kernel has just handed out on 127.0.0.1 (and so is free right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ProcessDeployment(Deployment):
    """`python -m service` in its own process group, so stopping it also stops its worker processes.

    Its environment carries the session's marks (ownership.py), so a session that died with SIGKILL can be
    found from /proc and cleaned up by its reaper or by the next session.
    """

    environment = "process"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        startup_timeout_s: float = 60.0,
        python: str = sys.executable,
        log_path: Path | None = None,
        group: int | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        super().__init__()
        self._extra_env = dict(env or {})
        self._port = port or free_loopback_port()
        self._startup_timeout_s = startup_timeout_s
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._group = group
        self._log_path = log_path or Path(tempfile.mkdtemp(prefix="garch-process-")) / "service.log"
        self._ownership = ownership or Ownership(session="manual")

    def state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "port": self._port,
            "env": self._extra_env,
            "python": self._python,
            "startup_timeout_s": self._startup_timeout_s,
            "log_path": str(self._log_path),
            "group": self._group,
            "session": self._ownership.session,
            "owner": self._ownership.owner.token if self._ownership.owner else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "ProcessDeployment":
        owner = Owner.parse(state.get("owner") or "")
        return cls(
            env=state["env"],
            port=state["port"],
            startup_timeout_s=state["startup_timeout_s"],
            python=state["python"],
            log_path=Path(state["log_path"]),
            group=state["group"],
            ownership=Ownership(state.get("session", "manual"), owner),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def version(self) -> str:
        return __version__

    @property
    def group(self) -> int | None:
        """The process group of the server: the supervisor's pid; its workers share it."""
        return self._group

    def start(self) -> None:
        if self._group is not None and group_members(self._group):
            return
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self._port),
            **self._extra_env,
            **self._ownership.variables(),
        }
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [self._python, "-m", "service"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        process = self._process
        self._group = process.pid
        self.created_now.append(f"process group {process.pid}")
        self._record()
        wait_for_http_ok(
            f"{self.url}/health",
            timeout_s=self._startup_timeout_s,
            is_alive=lambda: process.poll() is None,
            hint=f"see the service log {self._log_path}",
        )

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after the grace period, and wait until it is gone."""
        group, process = self._group, self._process
        self._group, self._process = None, None
        if group is not None:
            stop_process_group(group, process)
            self._record()

    def teardown(self) -> list[str]:
        group = self._group
        alive = group is not None and bool(group_members(group))
        self.stop()
        self._record(gone=True)
        return [f"process group {group}"] if alive else []

    def logs(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def group_members(group: int, proc: Path = Path("/proc")) -> list[int]:
    """Live (non-zombie) processes in a process group, read from /proc."""
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != b"Z":
            members.append(int(entry.name))
    return members


def stop_process_group(
    group: int, process: "subprocess.Popen[bytes] | None" = None, grace_s: float = STOP_GRACE_S
) -> None:
    """SIGTERM every process of `group`, SIGKILL what is left after `grace_s`, and return once all are gone."""
    _signal_group(group, signal.SIGTERM)
    if not _wait_group_gone(group, process, grace_s):
        _signal_group(group, signal.SIGKILL)
        if not _wait_group_gone(group, process, grace_s):
            raise DeploymentError(f"process group {group} still alive after SIGKILL: {group_members(group)}")


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has already exited
        os.killpg(group, signum)


def _wait_group_gone(group: int, process: "subprocess.Popen[bytes] | None", timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None:
            process.poll()  # reap our own child so it does not linger as a zombie
        if not group_members(group):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
