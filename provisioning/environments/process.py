"""The API as a uvicorn subprocess on a free loopback port: needs nothing but Python."""

import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioning.environments.base import Deployment
from provisioning.environments.health import models_failed_to_load
from provisioning.environments.ownership import Owner, Ownership
from provisioning.environments.secrets import recordable_env, recorded_env, require_secrets
from provisioning.processes import ProcessGroup, free_loopback_port, group_members, stop_process_group
from service import __version__


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
        missing_secrets: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._extra_env = dict(env or {})
        self._missing_secrets = list(missing_secrets or [])
        self._port = port or free_loopback_port()
        self._startup_timeout_s = startup_timeout_s
        self._python = python
        self._process: ProcessGroup | None = None
        self._group = group
        self._log_path = log_path or Path(tempfile.mkdtemp(prefix="garch-process-")) / "service.log"
        self._ownership = ownership or Ownership(session="manual")

    def state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "port": self._port,
            **recordable_env(self._extra_env, self._missing_secrets),
            "python": self._python,
            "startup_timeout_s": self._startup_timeout_s,
            "log_path": str(self._log_path),
            "group": self._group,
            "session": self._ownership.session,
            "owner": self._ownership.owner.token if self._ownership.owner else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> "ProcessDeployment":
        """`secrets`: the values of the secret variables the record names (it holds none)."""
        owner = Owner.parse(state.get("owner") or "")
        env, missing = recorded_env(state, secrets)
        return cls(
            env=env,
            missing_secrets=missing,
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
        require_secrets(self._missing_secrets, self.environment)
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self._port),
            **self._extra_env,
            **self._ownership.variables(),
        }
        process = ProcessGroup([self._python, "-m", "service"], name="the service", log_path=self._log_path, env=env)
        self._process = process.start()
        self._group = process.group
        self.created_now.append(f"process group {self._group}")
        self._record()
        process.wait_for_http(f"{self.url}/health", timeout_s=self._startup_timeout_s, gives_up=models_failed_to_load)

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after the grace period, and wait until it is gone."""
        group, process = self._group, self._process
        self._group, self._process = None, None
        if process is not None:
            process.stop()
        elif group is not None:
            stop_process_group(group)  # attached from a record: only the group's id is known
        if group is not None:
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
