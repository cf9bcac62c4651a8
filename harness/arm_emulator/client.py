"""Running the emulator from a test: the subprocess, a handle on its endpoint and control API, and a credential.

with EmulatorProcess(tmp_dir, registry="127.0.0.1:5000") as emulator:
    client = emulator.client(ResourceManagementClient)
    ...
    emulator.assert_holds_nothing()
"""

import json
import os
import secrets
import ssl
import sys
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from provisioning.environments.azure.credentials import StaticTokenCredential
from provisioning.errors import DeploymentError
from provisioning.processes import ProcessGroup

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0

ClientT = TypeVar("ClientT")


class EmulatorUnavailable(RuntimeError):
    """The emulator process did not start, or its control API did not answer."""


class EmulatorNotEmpty(AssertionError):
    """A rehearsal left resources or containers behind in the emulator."""

    def __init__(
        self,
        resources: list[dict[str, Any]],
        containers: list[dict[str, Any]],
        listeners: list[dict[str, Any]] | None = None,
    ) -> None:
        self.resources, self.containers, self.listeners = resources, containers, listeners or []
        ids = [resource["id"] for resource in resources] + [f"container {item['name']}" for item in containers]
        ids += [f"listener {item['address']}" for item in self.listeners]
        super().__init__(
            f"the ARM emulator still holds {len(resources)} resource(s), {len(containers)} container(s) and "
            f"{len(self.listeners)} ingress listener(s): {ids}"
        )


@dataclass(frozen=True)
class ArmEmulator:
    """A running emulator: where it is, how to authenticate, and its control API."""

    endpoint: str
    ca_bundle: Path
    token: str
    subscription_id: str
    tenant_id: str
    instance: str
    registry: str | None

    # -- pointing SDK clients at it -------------------------------------------------------------------------------
    def credential(self) -> StaticTokenCredential:
        return StaticTokenCredential(self.token)

    def client_kwargs(self, *, polling_interval: float = 0, retry_total: int | None = None) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt-* client constructor (after credential and subscription id)."""
        kwargs: dict[str, Any] = {
            "base_url": self.endpoint,
            "credential_scopes": [f"{self.endpoint}/.default"],
            "connection_verify": str(self.ca_bundle),
            "polling_interval": polling_interval,
        }
        if retry_total is not None:
            kwargs["retry_total"] = retry_total
        return kwargs

    def client(self, client_class: type[ClientT], **overrides: Any) -> ClientT:
        """An SDK client pointed here: `emulator.client(ResourceManagementClient)`."""
        kwargs = {**self.client_kwargs(), **overrides}
        return client_class(self.credential(), self.subscription_id, **kwargs)  # type: ignore[call-arg]

    def environment(self) -> dict[str, str]:
        """Environment variables for code that configures itself from the environment (the provisioning CLI)."""
        return {
            "AZURE_ARM_ENDPOINT": self.endpoint,
            "AZURE_ARM_TOKEN": self.token,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "AZURE_TENANT_ID": self.tenant_id,
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
        }

    # -- control API ----------------------------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        context = ssl.create_default_context(cafile=str(self.ca_bundle))
        with httpx.Client(verify=context, timeout=60) as http:
            response = http.request(
                method,
                f"{self.endpoint}/_emulator{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        if response.status_code >= 400:
            raise EmulatorUnavailable(f"{method} /_emulator{path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def inject(
        self,
        fault: str,
        *,
        method: str | None = None,
        type: str | None = None,  # the ARM resource type, as the control API names it
        name: str | None = None,
        action: str | None = None,
        times: int = 1,
        **params: Any,
    ) -> dict[str, Any]:
        """Add a fault rule; `params` are the fault's options (retry_after, code, message, status, exit_code)."""
        match = {
            key: value
            for key, value in {"method": method, "type": type, "name": name, "action": action}.items()
            if value
        }
        return dict(self._control("POST", "/faults", {"fault": fault, "match": match, "times": times, **params}))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "/faults")["value"])

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def set_scale_clock(self, factor: float) -> None:
        """Container Apps' scaling timings (15 s window, polling interval, cooldown) times `factor` from now on."""
        self._control("PUT", "/scale-clock", {"factor": factor})

    def scaling_events(self) -> list[dict[str, Any]]:
        """Every replica count change the emulator's autoscaler made: time, revision, from, to and why."""
        return list(self._control("GET", "/scaling")["value"])

    def resources(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "/resources")["value"])

    def containers(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "/containers")["value"])

    def listeners(self) -> list[dict[str, Any]]:
        """The container apps' ingress listeners still open (key, address)."""
        return list(self._control("GET", "/listeners")["value"])

    def requests(self, *, kind: str | None = None) -> list[dict[str, Any]]:
        """The request log; kind is "resource", "action", "list", "poll", "provider" or "subscription"."""
        entries = list(self._control("GET", "/requests")["value"])
        return [entry for entry in entries if kind is None or entry["kind"] == kind]

    def arm_calls(self, *, include_polls: bool = False) -> list[tuple[str, str | None, str | None, int]]:
        """(method, resource type, api-version, status) of every ARM call, in order: the list a closing note wants."""
        return [
            (entry["method"], entry["resource_type"], entry["api_version"], entry["status"])
            for entry in self.requests()
            if include_polls or entry["kind"] != "poll"
        ]

    def clear_requests(self) -> None:
        self._control("DELETE", "/requests")

    def reset(self) -> dict[str, Any]:
        """Delete every resource and container, clear faults, operations and the request log."""
        return dict(self._control("POST", "/reset"))

    def assert_holds_nothing(self) -> None:
        resources, containers, listeners = self.resources(), self.containers(), self.listeners()
        if resources or containers or listeners:
            raise EmulatorNotEmpty(resources, containers, listeners)

    # -- sharing a running emulator (e.g. with xdist workers) ----------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {**asdict(self), "ca_bundle": str(self.ca_bundle)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> "ArmEmulator":
        return cls(**{**state, "ca_bundle": Path(state["ca_bundle"])})


class EmulatorProcess:
    """`python -m harness.arm_emulator` as a subprocess; stopping it (or its parent dying) removes its containers."""

    def __init__(
        self,
        state_dir: Path,
        *,
        registry: str | None = None,
        retry_after_s: int = 0,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
        blob_endpoint: str | None = None,
        parent_pid: int | None = None,
    ) -> None:
        """`parent_pid`: the process whose death stops the emulator (default: this one). An xdist worker that
        starts an emulator for the whole session passes the controller's pid, so the emulator outlives the worker."""
        self.state_dir = state_dir
        self.parent_pid = parent_pid or os.getpid()
        self.registry = registry
        self.retry_after_s = retry_after_s
        self.startup_timeout_s = startup_timeout_s
        self.blob_endpoint = blob_endpoint
        self.instance = uuid.uuid4().hex[:12]
        self._process: ProcessGroup | None = None
        self._returncode: int | None = None
        self.emulator: ArmEmulator | None = None

    @property
    def log_file(self) -> Path:
        return self.state_dir / "emulator.log"

    def log_tail(self, characters: int = 2000) -> str:
        return self.log_file.read_text(errors="replace")[-characters:] if self.log_file.exists() else ""

    def start(self) -> ArmEmulator:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ready_file = self.state_dir / "ready.json"
        ready_file.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "harness.arm_emulator",
            "--state-dir", str(self.state_dir),
            "--subscription-id", str(uuid.uuid4()),
            "--instance", self.instance,
            "--retry-after", str(self.retry_after_s),
            "--ready-file", str(ready_file),
            "--parent-pid", str(self.parent_pid),
        ]  # fmt: skip
        if self.registry:
            command += ["--registry", self.registry]
        if self.blob_endpoint:
            command += ["--blob-endpoint", self.blob_endpoint]
        env = {**os.environ, "ARM_EMULATOR_TOKEN": secrets.token_urlsafe(32)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._process = ProcessGroup(command, name="the ARM emulator", log_path=self.log_file, env=env, cwd=REPO_ROOT)
        try:
            self._process.start()
            self.emulator = self._wait_ready(self._process, ready_file)
        except BaseException:
            self.stop()
            raise
        return self.emulator

    @property
    def returncode(self) -> int | None:
        """The process's exit status once it has exited (None while it runs or before it started)."""
        return self._process.returncode if self._process is not None else self._returncode

    def _wait_ready(self, process: ProcessGroup, ready_file: Path) -> ArmEmulator:
        try:
            process.wait_until(ready_file.exists, what="the emulator's ready file", timeout_s=self.startup_timeout_s)
        except DeploymentError as error:
            raise EmulatorUnavailable(f"the ARM emulator did not become ready: {error}") from error
        ready = json.loads(ready_file.read_text())
        return ArmEmulator(
            endpoint=ready["endpoint"],
            ca_bundle=Path(ready["caBundle"]),
            token=ready["token"],
            subscription_id=ready["subscriptionId"],
            tenant_id=ready["tenantId"],
            instance=ready["instance"],
            registry=ready["registry"],
        )

    def stop(self) -> None:
        """SIGTERM (the emulator removes its containers), SIGKILL after a grace period, then sweep any leftovers."""
        process, self._process = self._process, None
        if process is not None:
            self._returncode = process.stop(STOP_TIMEOUT_S)
        remove_leftover_containers(self.instance)

    def __enter__(self) -> ArmEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def remove_leftover_containers(instance: str) -> int:
    """Remove containers an emulator instance left; nothing to do (0) when no Docker engine answers."""
    import docker.errors

    from harness.arm_emulator.container_cleanup import remove_instance_containers

    try:
        return remove_instance_containers(instance)
    except docker.errors.DockerException:  # no engine: no container can have been started
        return 0
