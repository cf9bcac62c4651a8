"""The project's image in a local container (testcontainers), published on 127.0.0.1 only: what goes to Azure."""

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from provisioning.environments.base import Deployment
from provisioning.environments.health import models_failed_to_load
from provisioning.environments.image import build_service_image, docker_client
from provisioning.environments.ownership import SESSION_LABEL, Owner, Ownership
from provisioning.environments.secrets import recordable_env, recorded_env, require_secrets
from provisioning.errors import DeploymentError
from provisioning.processes import free_loopback_port
from provisioning.waiting import wait_for_http_ok

CONTAINER_PORT = 8001
STOP_TIMEOUT_S = 10
# Least privilege: the image's non-root user, nothing written outside /tmp (a small tmpfs for the metrics files),
# no capability at all (port 8001 needs none) and no way to gain privileges (setuid binaries do nothing).
HARDENING = {"read_only": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges:true"]}
TMPFS = {"/tmp": "rw,noexec,nosuid,nodev,size=64m"}
TESTCONTAINERS_SETTINGS = {
    # Ryuk (testcontainers' reaper) needs an image that cannot be pulled without a registry; our own reaper and
    # the session marks (ownership.py) do its job.
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TC_HOST": "127.0.0.1",
}


class LocalContainerDeployment(Deployment):
    """One container of the service image; `stop`/`start` keep the container and its loopback port."""

    environment = "local"

    def __init__(
        self,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        ownership: Ownership | None = None,
        startup_timeout_s: float = 120.0,
        container_id: str | None = None,
        missing_secrets: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._image = image
        self._env = dict(env or {})
        self._missing_secrets = list(missing_secrets or [])
        self._port = port or free_loopback_port()
        self._ownership = ownership or Ownership(session="manual")
        self._startup_timeout_s = startup_timeout_s
        self._container_id = container_id

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def version(self) -> str:
        return self._image or "unbuilt"

    @property
    def container_id(self) -> str | None:
        return self._container_id

    def state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "image": self._image,
            "port": self._port,
            "session": self._ownership.session,
            "owner": self._ownership.owner.token if self._ownership.owner else None,
            "container_id": self._container_id,
            **recordable_env(self._env, self._missing_secrets),
            "startup_timeout_s": self._startup_timeout_s,
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], secrets: Mapping[str, str] | None = None
    ) -> "LocalContainerDeployment":
        """`secrets`: the values of the secret variables the record names (it holds none)."""
        env, missing = recorded_env(state, secrets)
        return cls(
            image=state["image"],
            env=env,
            missing_secrets=missing,
            port=state["port"],
            ownership=Ownership(state["session"], Owner.parse(state.get("owner") or "")),
            startup_timeout_s=state["startup_timeout_s"],
            container_id=state["container_id"],
        )

    def start(self) -> None:
        if self._container_id is None:
            self._create_and_start()
        else:
            self._container().start()
        self._wait_healthy()

    def _create_and_start(self) -> None:
        require_secrets(self._missing_secrets, self.environment)  # a container that exists keeps its own
        for name, value in TESTCONTAINERS_SETTINGS.items():
            os.environ.setdefault(name, value)  # read by testcontainers when it is first imported
        from testcontainers.core.container import DockerContainer

        if self._image is None:
            self._image = build_service_image()
        container = DockerContainer(self._image).with_envs(**self._env)
        store = self._env.get("MODEL_STORE", "")
        if store.startswith("/"):  # a directory model store: mounted read-only at the same path inside
            container.with_volume_mapping(store, store, "ro")
        # (address, port): loopback only, and the same port across restarts; docker-py takes it, the stub does not.
        container.ports[f"{CONTAINER_PORT}/tcp"] = ("127.0.0.1", self._port)  # type: ignore[assignment]
        container.with_kwargs(labels=self._ownership.labels(), **HARDENING)
        container.tmpfs.update(TMPFS)
        self._record()  # before the container exists: a record of the session finds it by its label
        container.start()
        self._container_id = container.get_wrapped_container().id
        self.created_now.append(f"container {self._container_id[:12]}")
        self._record()

    def _wait_healthy(self) -> None:
        wait_for_http_ok(
            f"{self.url}/health",
            timeout_s=self._startup_timeout_s,
            is_alive=lambda: self._container().status != "exited",
            hint=f"see `docker logs {self._container_id}`",
            gives_up=models_failed_to_load,
        )

    def _container(self) -> Any:
        from docker.errors import NotFound

        try:
            container = docker_client().containers.get(self._container_id)
        except NotFound as error:
            raise DeploymentError(f"container {self._container_id} is gone") from error
        container.reload()
        return container

    def stop(self) -> None:
        if self._container_id is not None:
            self._container().stop(timeout=STOP_TIMEOUT_S)

    def teardown(self) -> list[str]:
        """Remove this deployment's container, and any other its session labelled (a start that half-failed)."""
        from docker.errors import NotFound

        client = docker_client()
        session = self._ownership.session
        leftovers = client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"{SESSION_LABEL}={session}"}
        )
        ids = {c.id for c in leftovers} | ({self._container_id} if self._container_id else set())
        removed = []
        for container_id in sorted(ids):
            with contextlib.suppress(NotFound):  # already gone is what we want
                client.containers.get(container_id).remove(force=True, v=True)
                removed.append(f"container {container_id[:12]}")
        self._container_id = None
        self._record(gone=True)
        return removed

    def logs(self) -> str:
        if self._container_id is None:
            return ""
        return bytes(self._container().logs()).decode(errors="replace")
