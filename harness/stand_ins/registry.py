"""Debian's `docker-registry` (distribution 2.8) on a free loopback port: the stand-in for Azure Container Registry.

Plain http on 127.0.0.1, which Docker trusts without configuration; data in a directory the caller owns. It has no
authentication of its own: the ARM emulator checks registry credentials when a container group pulls.
"""

import contextlib
import shutil
from pathlib import Path
from types import TracebackType

from provisioning.environments.image_push import push_tags
from provisioning.errors import DeploymentError
from provisioning.processes import ProcessGroup, free_loopback_port

STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
INSTALL_HINT = "install Debian's docker-registry package: apt-get install -y docker-registry"


class RegistryUnavailable(RuntimeError):
    """The local registry could not be started (binary missing, port taken, crashed)."""


class LocalRegistry:
    """A context manager: `with LocalRegistry(tmp) as registry: registry.push("garch-mlops:0.1.0")`.

    `LocalRegistry.attached("127.0.0.1:PORT")` is one another process serves (harness/stand_ins/shared_registry.py):
    used the same way, but neither started nor stopped here."""

    def __init__(self, directory: Path, *, host: str = "127.0.0.1", binary: str = "docker-registry") -> None:
        if not host.startswith("127."):
            raise ValueError(f"the local registry serves on loopback only, not on {host!r}")
        self.directory = directory
        self.host = host
        self.binary = binary
        self.port: int | None = None
        self._process: ProcessGroup | None = None
        self._attached = False

    @classmethod
    def attached(cls, address: str) -> "LocalRegistry":
        """The registry serving at `address` (host:port on loopback), which its owner starts and stops."""
        host, _, port = address.rpartition(":")
        if not port.isdigit():
            raise ValueError(f"a registry address is host:port, not {address!r}")
        registry = cls(Path(), host=host)
        registry.port, registry._attached = int(port), True
        return registry

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
        if self._attached:
            return self
        executable = shutil.which(self.binary)
        if executable is None:
            raise RegistryUnavailable(f"'{self.binary}' is not on PATH; {INSTALL_HINT}")
        self.directory.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            self.port = free_loopback_port(self.host)
            self._process = ProcessGroup(
                [executable, "serve", str(self._config(self.port))],
                name="docker-registry",
                log_path=self.log_file,
                die_with_parent=True,
            ).start()
            try:
                self._process.wait_for_http(f"http://{self.address}/v2/", timeout_s=timeout_s, interval_s=0.05)
                return self
            except DeploymentError as error:
                last_error = str(error)
                self.stop()
        raise RegistryUnavailable(last_error)

    def stop(self) -> None:
        """Stop the registry and drop the local image tags that point into it (its data dir is the caller's)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.stop(STOP_TIMEOUT_S)
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
        """Tag a local image into this registry and push it (in line with other pushes into it, as
        provisioning/environments/image_push.py does); returns the reference a container group uses."""
        source_repository, _, source_tag = (
            image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
        )
        target = f"{self.address}/{repository or source_repository.rsplit('/', 1)[-1]}"
        target_tag = tag or source_tag
        push_tags(image, target, [target_tag])
        return f"{target}:{target_tag}"

    def __enter__(self) -> "LocalRegistry":
        return self.start() if self._process is None else self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
