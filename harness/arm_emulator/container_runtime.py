"""Container groups as Docker containers, each group on its own loopback address 127.0.0.N.

Every container carries `io.garch-mlops.arm-emulator=<instance>` (and the owning emulator's pid), so whatever
this emulator started can be listed and removed, by it at shutdown or by the fixture after a crash
(container_cleanup.py). The first container of a group publishes the group's ports on its address; further
containers join its network namespace, as containers of one ACI group share localhost.
"""

import contextlib
import hashlib
import logging
import os
import random
import socket
import threading
from collections.abc import Sequence
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.utils import parse_repository_tag

from harness.arm_emulator.container_specs import ContainerSpec, GroupSpec, RuntimeFailure
from harness.arm_emulator.container_state import ContainerEvent, ContainerState, read_state
from harness.arm_emulator.lro import utc_now

LABEL = "io.garch-mlops.arm-emulator"
PID_LABEL = f"{LABEL}.pid"
RESOURCE_LABEL = f"{LABEL}.resource-id"
CONTAINER_LABEL = f"{LABEL}.container"
IP_LABEL = f"{LABEL}.ip"
STOP_TIMEOUT_S = 5
FIRST_HOST, LAST_HOST = 2, 254

log = logging.getLogger(__name__)

RESTART_POLICIES = {
    "always": {"Name": "unless-stopped"},
    "onfailure": {"Name": "on-failure"},
    "never": None,
}


def _address_free(ip: str, ports: Sequence[tuple[int, str]]) -> bool:
    for port, protocol in ports:
        kind = socket.SOCK_DGRAM if protocol.upper() == "UDP" else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((ip, port))
            except OSError:
                return False
    return True


class ContainerRuntime:
    def __init__(self, instance: str) -> None:
        self.instance = instance
        # One client for all threads: its urllib3 pool is thread-safe, and per-thread clients would leak
        # connections (the HTTP server starts a thread per client connection).
        self.client = docker.from_env(timeout=120, max_pool_size=16)
        self._lock = threading.RLock()
        self._group_locks: dict[str, threading.Lock] = {}
        self._ips: dict[str, str] = {}  # resource id (lower) -> 127.0.0.N
        self._events: dict[str, dict[str, list[ContainerEvent]]] = {}
        self._stopped: set[str] = set()
        self.client.ping()

    def group_lock(self, resource_id: str) -> threading.Lock:
        with self._lock:
            return self._group_locks.setdefault(resource_id.lower(), threading.Lock())

    # -- addresses ------------------------------------------------------------------------------------------------
    def _addresses_in_use(self) -> set[str]:
        used = set(self._ips.values())
        for container in self.client.containers.list(all=True, ignore_removed=True, filters={"label": LABEL}):
            used.add(container.labels.get(IP_LABEL, ""))
        return used

    def allocate_ip(self, resource_id: str, ports: Sequence[tuple[int, str]], *, avoid: str | None = None) -> str:
        """The group's loopback address: kept across redeploys, else a free 127.0.0.N (2..254)."""
        key = resource_id.lower()
        with self._lock:
            if key in self._ips and self._ips[key] != avoid:
                return self._ips[key]
            used = self._addresses_in_use() | ({avoid} if avoid else set())
            hosts = list(range(FIRST_HOST, LAST_HOST + 1))
            start = random.randrange(len(hosts))
            for host in hosts[start:] + hosts[:start]:
                ip = f"127.0.0.{host}"
                if ip not in used and _address_free(ip, ports):
                    self._ips[key] = ip
                    return ip
        raise RuntimeFailure("ServiceUnavailable", "No loopback address 127.0.0.2-254 is free for the container group.")

    def ip_of(self, resource_id: str) -> str | None:
        with self._lock:
            return self._ips.get(resource_id.lower())

    def adopt_ip(self, resource_id: str, ip: str) -> None:
        with self._lock:
            self._ips[resource_id.lower()] = ip

    # -- events ---------------------------------------------------------------------------------------------------
    def _event(self, resource_id: str, container: str, name: str, message: str, kind: str = "Normal") -> None:
        with self._lock:
            events = self._events.setdefault(resource_id.lower(), {}).setdefault(container, [])
            for event in events:
                if event.name == name and event.message == message:
                    event.count += 1
                    event.last = utc_now()
                    return
            events.append(ContainerEvent(name, message, kind))

    def events(self, resource_id: str, container: str) -> list[dict[str, Any]]:
        with self._lock:
            return [event.as_arm() for event in self._events.get(resource_id.lower(), {}).get(container, [])]

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def _containers(self, resource_id: str) -> list[Container]:
        found = self.client.containers.list(
            all=True,
            ignore_removed=True,
            filters={"label": [f"{LABEL}={self.instance}", f"{RESOURCE_LABEL}={resource_id.lower()}"]},
        )
        return sorted(found, key=lambda container: int(container.labels.get(f"{LABEL}.index", "0")))

    def deploy(self, spec: GroupSpec) -> str:
        """Pull every image, (re)create the group's containers and start them; returns the group's address."""
        with self.group_lock(spec.resource_id):
            self._remove_containers(spec.resource_id)
            with self._lock:
                self._events.pop(spec.resource_id.lower(), None)
                self._stopped.discard(spec.resource_id.lower())
            for container in spec.containers:
                self._pull(spec, container)
            ip = self.allocate_ip(spec.resource_id, spec.ports)
            for attempt in range(5):
                try:
                    self._start_all(spec, ip)
                    return ip
                except docker.errors.APIError as error:
                    self._remove_containers(spec.resource_id)
                    if "address already in use" not in str(error) or attempt == 4:
                        raise RuntimeFailure(
                            "ContainerGroupDeploymentFailed", f"Docker refused the group: {error}"
                        ) from error
                    ip = self.allocate_ip(spec.resource_id, spec.ports, avoid=ip)
            raise AssertionError("unreachable")

    def _pull(self, spec: GroupSpec, container: ContainerSpec) -> None:
        repository, tag = parse_repository_tag(container.image)
        host = repository.split("/", 1)[0]
        self._event(spec.resource_id, container.name, "Pulling", f'pulling image "{container.image}"')
        try:
            self.client.images.pull(repository, tag=tag or "latest", auth_config=spec.registry_auth.get(host.lower()))
        except docker.errors.APIError as error:
            self._event(
                spec.resource_id,
                container.name,
                "Failed",
                f'Failed to pull image "{container.image}": {error}',
                "Warning",
            )
            raise RuntimeFailure(
                "InaccessibleImage",
                f"The image '{container.image}' in container group '{spec.name}' is not accessible. "
                "Please check the image and registry credential.",
            ) from error
        self._event(spec.resource_id, container.name, "Pulled", f'Successfully pulled image "{container.image}"')

    def _start_all(self, spec: GroupSpec, ip: str) -> None:
        first: Container | None = None
        for index, container in enumerate(spec.containers):
            labels = {
                LABEL: self.instance,
                PID_LABEL: str(os.getpid()),
                RESOURCE_LABEL: spec.resource_id.lower(),
                CONTAINER_LABEL: container.name,
                IP_LABEL: ip,
                f"{LABEL}.index": str(index),
            }
            options: dict[str, Any] = {
                # Group names repeat across resource groups; the id's digest keeps Docker's names apart.
                "name": f"arm-{self.instance}-{_digest(spec.resource_id)}-{spec.name}-{container.name}"[:120],
                "labels": labels,
                "environment": container.env,
                "detach": True,
                "nano_cpus": int(min(container.cpu, os.cpu_count() or 1) * 1e9),
                "mem_limit": int(container.memory_gb * 1024**3),
                "restart_policy": RESTART_POLICIES[spec.restart_policy.lower()],
            }
            options.update(_entrypoint(spec, container))
            if first is None:
                options["hostname"] = spec.name[:63]
                options["ports"] = {f"{port}/{protocol.lower()}": (ip, port) for port, protocol in spec.ports}
            else:
                options["network_mode"] = f"container:{first.id}"
            if options["restart_policy"] is None:
                del options["restart_policy"]
            created = self.client.containers.run(container.image, **options)
            first = first or created
            self._event(spec.resource_id, container.name, "Started", "Started container")

    def _remove_containers(self, resource_id: str) -> None:
        for container in reversed(self._containers(resource_id)):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)

    def remove(self, resource_id: str) -> None:
        """Remove the group's containers and free its address; removing what is gone succeeds."""
        with self.group_lock(resource_id):
            self._remove_containers(resource_id)
            with self._lock:
                self._ips.pop(resource_id.lower(), None)
                self._events.pop(resource_id.lower(), None)
                self._stopped.discard(resource_id.lower())

    def release_ip(self, resource_id: str) -> None:
        """Free an address taken with allocate_ip for something other than containers (an ingress listener)."""
        with self._lock:
            self._ips.pop(resource_id.lower(), None)

    def remove_beneath(self, resource_id: str) -> int:
        """Remove the containers of every key under `resource_id/` (a container app's replicas) and free their
        addresses; returns how many containers there were."""
        prefix = resource_id.lower().rstrip("/") + "/"
        found = [
            container
            for container in self.client.containers.list(
                all=True, ignore_removed=True, filters={"label": f"{LABEL}={self.instance}"}
            )
            if container.labels.get(RESOURCE_LABEL, "").startswith(prefix)
        ]
        for container in found:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        with self._lock:
            for key in [key for key in self._ips if key.startswith(prefix)]:
                self._ips.pop(key, None)
                self._events.pop(key, None)
        return len(found)

    def stop(self, resource_id: str) -> None:
        with self.group_lock(resource_id):
            for container in reversed(self._containers(resource_id)):
                container.stop(timeout=STOP_TIMEOUT_S)
                self._event(resource_id, container.labels[CONTAINER_LABEL], "Killing", "Killing container")
            with self._lock:
                self._stopped.add(resource_id.lower())

    def start(self, resource_id: str) -> None:
        with self.group_lock(resource_id):
            for container in self._containers(resource_id):
                container.start()
                self._event(resource_id, container.labels[CONTAINER_LABEL], "Started", "Started container")
            with self._lock:
                self._stopped.discard(resource_id.lower())

    def restart(self, resource_id: str) -> None:
        with self.group_lock(resource_id):
            for container in self._containers(resource_id):
                container.restart(timeout=STOP_TIMEOUT_S)
                self._event(resource_id, container.labels[CONTAINER_LABEL], "Started", "Started container")
            with self._lock:
                self._stopped.discard(resource_id.lower())

    def is_stopped(self, resource_id: str) -> bool:
        with self._lock:
            return resource_id.lower() in self._stopped

    # -- observation ----------------------------------------------------------------------------------------------
    def states(self, resource_id: str) -> dict[str, ContainerState]:
        """Docker's view of each container of the group, by container name."""
        return {
            container.labels[CONTAINER_LABEL]: read_state(self.client, container)
            for container in self._containers(resource_id)
        }

    def cpu_seconds(self, resource_id: str) -> float | None:
        """CPU time the group's running containers have used so far (cgroup accounting); None when none runs."""
        used = None
        for container in self._containers(resource_id):
            if container.status != "running":
                continue
            try:
                stats = self.client.api.stats(container.id, stream=False, one_shot=True)
            except docker.errors.APIError:
                continue
            total = (stats.get("cpu_stats") or {}).get("cpu_usage", {}).get("total_usage")
            if total is not None:
                used = (used or 0.0) + total / 1e9
        return used

    def logs(self, resource_id: str, container_name: str, *, tail: int | None, timestamps: bool) -> str | None:
        for container in self._containers(resource_id):
            if container.labels.get(CONTAINER_LABEL) == container_name:
                raw = container.logs(
                    stdout=True, stderr=True, tail=tail if tail is not None else "all", timestamps=timestamps
                )
                return bytes(raw).decode("utf-8", errors="replace")
        return None

    def list_all(self) -> list[dict[str, Any]]:
        """Every container this emulator instance runs (or ran and has not removed)."""
        found = self.client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"{LABEL}={self.instance}"}
        )
        return [
            {
                "id": container.id,
                "name": container.name,
                "resourceId": container.labels.get(RESOURCE_LABEL),
                "container": container.labels.get(CONTAINER_LABEL),
                "ip": container.labels.get(IP_LABEL),
                "status": container.status,
                "image": container.attrs.get("Config", {}).get("Image"),
            }
            for container in found
        ]

    def remove_all(self) -> int:
        found = self.client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"{LABEL}={self.instance}"}
        )
        for container in found:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        with self._lock:
            self._ips.clear()
            self._events.clear()
            self._stopped.clear()
        return len(found)


def _entrypoint(spec: GroupSpec, container: ContainerSpec) -> dict[str, Any]:
    """Docker's entrypoint/command options: an injected fault's, or the container's own command and args."""
    if spec.crash_exit_code is not None:
        script = f"echo 'arm-emulator: injected crash on start' >&2; exit {spec.crash_exit_code}"
        return {"entrypoint": ["/bin/sh", "-c", script]}
    if spec.hang_on_start:
        script = "echo 'arm-emulator: injected never-ready start: nothing listens' >&2; exec sleep 2147483647"
        return {"entrypoint": ["/bin/sh", "-c", script]}
    options: dict[str, Any] = {}
    if container.command:
        options["entrypoint"] = container.command
    if container.args:
        options["command"] = container.args
    return options


def _digest(resource_id: str) -> str:
    """A short, stable stand-in for a resource id (ARM ids compare case-insensitively)."""
    return hashlib.sha256(resource_id.lower().encode()).hexdigest()[:8]
