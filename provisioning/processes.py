"""One way to run a helper process: in a process group of its own, its output in a log file, ready when a check
holds (a wait with a deadline that gives up the moment the process exits), and stopped as a whole group.

Everything the project starts goes through it: the service (`--env process`), benchmark servers, Prometheus and
Alertmanager, Azurite, the local image registry and the ARM emulator. A group can also be stopped from another
process that knows only its id (`stop_process_group`), which is how a recorded deployment is torn down.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx
from typing_extensions import Self

from provisioning.errors import DeploymentError
from provisioning.waiting import wait_for_http_ok, wait_until

STOP_GRACE_S = 10.0
T = TypeVar("T")


class ProcessExited(DeploymentError):
    """A process ended while we waited for it to become ready; carries its exit status and last output."""

    def __init__(self, name: str, returncode: int, tail: str) -> None:
        self.name, self.returncode, self.tail = name, returncode, tail
        super().__init__(f"{name} exited with {returncode} before it was ready: {tail.strip()[-500:]}")


def free_loopback_port(host: str = "127.0.0.1") -> int:
    """A port the kernel has just handed out on `host` (and so is free right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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

    def gone() -> bool:
        if process is not None:
            process.poll()  # reap our own child so it does not linger as a zombie
        return not group_members(group)

    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # the group has already exited
            os.killpg(group, signum)
        with contextlib.suppress(DeploymentError):
            wait_until(gone, what="the process group's exit", where=f"group {group}", timeout_s=grace_s)
            return
    raise DeploymentError(f"process group {group} still alive after SIGKILL: {group_members(group)}")


class ProcessGroup:
    """`with ProcessGroup([...], log_path=...) as server: server.wait_for_http(url, ...)`."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        log_path: Path,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        die_with_parent: bool = False,
    ) -> None:
        """`die_with_parent`: the kernel sends the process SIGTERM when ours dies without stopping it (SIGKILL);
        for helpers that must never outlive the test run that started them."""
        self.command = list(command)
        self.name = name or Path(self.command[0]).name
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._die_with_parent = die_with_parent
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        setpriv = shutil.which("setpriv") if self._die_with_parent else None
        prefix = [setpriv, "--pdeathsig", "TERM"] if setpriv else []
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [*prefix, *self.command],
                env=self._env,
                cwd=self._cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def group(self) -> int | None:
        """The process group's id (the first process's pid); None before start and after stop."""
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The first process's exit status once it has exited by itself; None while it runs."""
        return self._process.poll() if self._process is not None else None

    def log_tail(self, characters: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except FileNotFoundError:
            return ""

    def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        what: str,
        timeout_s: float,
        interval_s: float = 0.05,
        last_seen: Callable[[], str] = lambda: "not yet",
    ) -> T:
        """Poll `check` until it returns a value; ProcessExited as soon as the process ends instead."""

        def ready() -> T | None:
            value = check()
            if value is None or value is False:
                process = self._process
                if process is None or process.poll() is not None:
                    raise ProcessExited(self.name, process.returncode if process else -1, self.log_tail())
            return value

        where = f"{self.name} (log {self.log_path})"
        return wait_until(
            ready, what=what, where=where, timeout_s=timeout_s, interval_s=interval_s, last_seen=last_seen
        )

    def wait_for_http(
        self,
        url: str,
        *,
        timeout_s: float,
        interval_s: float = 0.1,
        gives_up: Callable[[httpx.Response], str | None] = lambda response: None,
    ) -> float:
        """Until `url` answers 200; returns the seconds it took (see wait_for_http_ok for `gives_up`)."""
        return wait_for_http_ok(
            url,
            timeout_s=timeout_s,
            interval_s=interval_s,
            is_alive=self.running,
            gives_up=gives_up,
            hint=f"see {self.log_path}",
        )

    def stop(self, grace_s: float = STOP_GRACE_S) -> int | None:
        """Stop every process of the group; returns the first process's exit status (None if never started)."""
        process, self._process = self._process, None
        if process is None:
            return None
        stop_process_group(process.pid, process, grace_s)
        return process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
