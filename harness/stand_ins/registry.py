"""Debian's `docker-registry` (distribution 2.8) on a free loopback port: the stand-in for Azure Container Registry.

Plain http on 127.0.0.1, which Docker trusts without configuration; data in a directory the caller owns. It has no
authentication of its own: the ARM emulator checks registry credentials when a container group pulls.
"""

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
INSTALL_HINT = "install Debian's docker-registry package: apt-get install -y docker-registry"


def _die_with_parent() -> list[str]:
    """util-linux's setpriv makes the kernel send SIGTERM when our process dies without tearing down."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


class RegistryUnavailable(RuntimeError):
    """The local registry could not be started (binary missing, port taken, crashed)."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalRegistry:
    """A context manager: `with LocalRegistry(tmp) as registry: registry.push("garch-mlops:0.1.0")`."""

    def __init__(self, directory: Path, *, host: str = "127.0.0.1", binary: str = "docker-registry") -> None:
        if not host.startswith("127."):
            raise ValueError(f"the local registry serves on loopback only, not on {host!r}")
        self.directory = directory
        self.host = host
        self.binary = binary
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        if self.port is None:
            raise RegistryUnavailable("the local registry is not started")
        return f"{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.directory / "registry.log"

    def _config(self, port: int) -> Path:
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.directory / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}:{port}\n"
        )
        return config

    def start(self, timeout_s: float = STARTUP_TIMEOUT_S) -> "LocalRegistry":
        executable = shutil.which(self.binary)
        if executable is None:
            raise RegistryUnavailable(f"'{self.binary}' is not on PATH; {INSTALL_HINT}")
        self.directory.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            port = _free_port(self.host)
            config = self._config(port)
            with self.log_file.open("ab") as log:
                self._process = subprocess.Popen(
                    [*_die_with_parent(), executable, "serve", str(config)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.port = port
            try:
                self._wait_ready(timeout_s)
                return self
            except RegistryUnavailable as error:
                last_error = str(error)
                self.stop()
        raise RegistryUnavailable(last_error)

    def _wait_ready(self, timeout_s: float) -> None:
        url = f"http://{self.address}/v2/"
        deadline = time.monotonic() + timeout_s
        last_seen = "no answer yet"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                tail = self.log_file.read_text(errors="replace")[-500:]
                raise RegistryUnavailable(f"docker-registry exited with {self._process.returncode}: {tail.strip()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError as error:
                last_seen = f"{type(error).__name__}: {error}"
            time.sleep(0.05)
        raise RegistryUnavailable(f"docker-registry at {url} not ready after {timeout_s:.0f}s (last: {last_seen})")

    def stop(self) -> None:
        """Stop the registry and drop the local image tags that point into it (its data dir is the caller's)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_S)
        self._untag_local_images()

    def _untag_local_images(self) -> None:
        """`docker push` and pulls left tags like 127.0.0.1:PORT/garch-mlops:0.1.0 in the engine; remove them."""
        import docker
        import docker.errors

        try:
            client = docker.from_env()
        except docker.errors.DockerException:  # no engine: nothing was tagged
            return
        try:
            for image in client.images.list():
                for tag in image.tags:
                    if tag.startswith(f"{self.address}/"):
                        with contextlib.suppress(docker.errors.APIError):  # still used by a container: keep it
                            client.images.remove(tag, noprune=True)
        finally:
            client.close()

    def push(self, image: str, *, repository: str | None = None, tag: str | None = None) -> str:
        """Tag a local image into this registry and push it; returns the reference a container group uses."""
        import docker

        client = docker.from_env(timeout=300)
        try:
            source_repository, _, source_tag = (
                image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
            )
            target = f"{self.address}/{repository or source_repository.rsplit('/', 1)[-1]}"
            target_tag = tag or source_tag
            client.images.get(image).tag(target, target_tag)
            for line in client.images.push(target, tag=target_tag, stream=True, decode=True):
                if "error" in line:
                    raise RegistryUnavailable(f"pushing {image} to {target}:{target_tag} failed: {line['error']}")
            return f"{target}:{target_tag}"
        finally:
            client.close()

    def __enter__(self) -> "LocalRegistry":
        return self.start() if self._process is None else self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
