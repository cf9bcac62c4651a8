"""Any ASGI app (`module:attribute`) served by plain uvicorn in a subprocess on a free loopback port.

For peers the service is compared with: started exactly the way their authors run them (`uvicorn app:app`).
"""

import sys
import tempfile
from pathlib import Path
from typing import Any

from provisioning.environments.base import Deployment
from provisioning.processes import ProcessGroup, free_loopback_port

STOP_GRACE_S = 10.0


class UvicornAppDeployment(Deployment):
    """`python -m uvicorn APP --workers N` in its own process group; leaving the context stops the whole group."""

    environment = "uvicorn-app"

    def __init__(
        self,
        app: str,
        *,
        app_dir: Path,
        workers: int = 1,
        health_path: str = "/health",
        startup_timeout_s: float = 60.0,
    ) -> None:
        super().__init__()
        self._app, self._app_dir, self._workers = app, app_dir, workers
        self._health_path, self._startup_timeout_s = health_path, startup_timeout_s
        self._port = free_loopback_port()
        self._process: ProcessGroup | None = None
        self._log_path = Path(tempfile.mkdtemp(prefix="garch-peer-")) / "uvicorn.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def version(self) -> str:
        return self._app

    @property
    def group(self) -> int | None:
        """The process group of the server (its supervisor's pid); None when not running."""
        return self._process.group if self._process is not None else None

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", self._app, "--app-dir", str(self._app_dir)]
        command += ["--host", "127.0.0.1", "--port", str(self._port), "--workers", str(self._workers)]
        self._process = ProcessGroup(command, name=self._app, log_path=self._log_path).start()
        self._process.wait_for_http(f"{self.url}{self._health_path}", timeout_s=self._startup_timeout_s)

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it after the grace period; raises if anything is still alive."""
        process, self._process = self._process, None
        if process is not None:
            process.stop(STOP_GRACE_S)

    def teardown(self) -> list[str]:
        group = self.group
        self.stop()
        return [f"process group {group}"] if group is not None else []

    def state(self) -> dict[str, Any]:
        return {"environment": self.environment, "app": self._app, "port": self._port, "log": str(self._log_path)}

    def logs(self) -> str:
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
