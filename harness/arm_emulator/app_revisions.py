"""A container app's revisions as they really run: replicas are Docker containers, probes decide readiness.

Provisioning a revision starts `replicas` replicas (each a group of the template's containers on its own
127.0.0.N, publishing the ingress target port), then probes them until every one is ready (Running / Healthy /
Provisioned) or the probes' deadline passes (Failed / Unhealthy, no traffic). A container that exits or restarts
while the revision starts fails it at once with the exit code and the last lines it logged, and its containers are
removed (Container Apps would keep restarting it). An image the app may not pull fails it before any container
starts. Once ready, a monitor keeps probing readiness: a replica that stops passing (or whose container exits)
takes no requests until it passes again.
"""

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from harness.arm_emulator.app_probes import ProbeSet
from harness.arm_emulator.app_routing import Replica, Router
from harness.arm_emulator.container_runtime import ContainerRuntime
from harness.arm_emulator.container_specs import ContainerSpec, GroupSpec, RuntimeFailure
from harness.arm_emulator.lro import utc_now
from provisioning.errors import DeploymentTimeout
from provisioning.waiting import wait_until

log = logging.getLogger(__name__)
LOG_LINES = 5


@dataclass(frozen=True)
class RevisionPlan:
    """What one provisioning of a revision runs; made afresh on activate and restart (the pull may now work)."""

    containers: list[ContainerSpec]
    target_port: int | None
    replicas: int
    probes: ProbeSet
    pull_denied: str | None = None  # the provisioning error when the app may not pull the image
    crash_exit_code: int | None = None
    never_ready: bool = False
    grace_s: float = 30.0


@dataclass(eq=False)
class Revision:
    app_id: str
    name: str
    template: dict[str, object]
    plan_for: Callable[[], RevisionPlan]
    created: str = field(default_factory=utc_now)
    last_active: str = field(default_factory=utc_now)
    active: bool = True
    provisioning_state: str = "Provisioning"
    running_state: str = "Processing"
    health_state: str = "None"
    error: str | None = None
    replicas: list[Replica] = field(default_factory=list)
    generation: int = 0
    settled: threading.Event = field(default_factory=threading.Event)
    address: str | None = None  # the revision's own ingress listener
    plan: RevisionPlan | None = None  # what its replicas were last started from (the autoscaler starts more of them)
    pending: int = 0  # replicas a scale-out asked for whose containers are not up yet

    @property
    def healthy(self) -> bool:
        return self.active and self.health_state == "Healthy"

    def set_state(self, outcome: Literal["ready", "failed", "stopped"], error: str | None = None) -> None:
        states = {
            "ready": ("Provisioned", "Running", "Healthy"),
            "failed": ("Failed", "Failed", "Unhealthy"),
            "stopped": ("Provisioned", "Stopped", "None"),
        }
        self.provisioning_state, self.running_state, self.health_state = states[outcome]
        self.error = error


class _Cancelled(Exception):
    """The revision was deactivated, restarted or deleted while it started."""


class _Crashed(Exception):
    pass


class RevisionLauncher:
    """Provisions revisions and watches them; `on_settled(revision)` is called when one became ready or failed."""

    def __init__(self, runtime: ContainerRuntime, router: Router, on_settled: Callable[[Revision], None]) -> None:
        self.runtime, self.router, self.on_settled = runtime, router, on_settled
        self._pending = threading.Lock()

    def launch(self, revision: Revision) -> None:
        revision.generation += 1
        revision.settled.clear()
        revision.provisioning_state, revision.running_state, revision.health_state = (
            "Provisioning",
            "Processing",
            "None",
        )
        revision.error = None
        generation = revision.generation
        threading.Thread(
            target=self._run, args=(revision, generation), daemon=True, name=f"revision-{revision.name}"
        ).start()

    def _run(self, revision: Revision, generation: int) -> None:
        previous = list(revision.replicas)
        try:
            plan = revision.plan_for()
            if plan.pull_denied:
                raise RuntimeFailure("ImagePullFailure", plan.pull_denied)
            revision.plan = plan
            replicas = self._start_replicas(revision, plan, generation, plan.replicas)
            self._await_ready(revision, plan, replicas, generation)
        except _Cancelled:
            return
        except (RuntimeFailure, _Crashed) as failure:
            message = failure.message if isinstance(failure, RuntimeFailure) else str(failure)
            self._fail(revision, generation, message, remove=True)
            return
        except DeploymentTimeout:
            self._fail(revision, generation, _not_ready(plan.probes), remove=False)
            return
        except Exception as error:  # a Docker error of any kind fails the revision, as a platform error would
            log.exception("revision %s failed", revision.name)
            self._fail(revision, generation, f"{type(error).__name__}: {error}", remove=True)
            return
        self.retire(revision, previous, plan.grace_s)
        revision.set_state("ready")
        revision.settled.set()
        self.on_settled(revision)
        self._monitor(revision, plan, generation)

    def scale_out(self, revision: Revision, count: int) -> None:
        """Start `count` more replicas of a running revision; each takes requests once its probes pass. One that
        fails to start or to become ready is removed (the autoscaler may try again)."""
        plan, generation = revision.plan, revision.generation
        if plan is None or count < 1:
            return
        with self._pending:
            revision.pending += count
        started: list[Replica] = []

        def started_one(replica: Replica) -> None:
            started.append(replica)
            with self._pending:
                revision.pending -= 1

        def start() -> None:
            try:
                self._start_replicas(revision, plan, generation, count, started_one)
                self._await_ready(revision, plan, started, generation)
            except _Cancelled:
                pass
            except Exception as error:  # a replica that cannot start is not the revision failing
                log.warning("revision %s: new replica(s) did not become ready: %s", revision.name, error)
                self.retire(revision, [replica for replica in started if not replica.ready], grace_s=0)
            finally:
                with self._pending:
                    revision.pending -= count - len(started)

        threading.Thread(target=start, daemon=True, name=f"scale-out-{revision.name}").start()

    def _start_replicas(
        self,
        revision: Revision,
        plan: RevisionPlan,
        generation: int,
        count: int,
        on_started: Callable[[Replica], None] | None = None,
    ) -> list[Replica]:
        replicas = []
        for _ in range(count):
            name = f"{revision.name}-{uuid.uuid4().hex[:10]}"
            replica = Replica(name=name, runtime_id=f"{revision.app_id}/revisions/{revision.name}/replicas/{name}")
            spec = GroupSpec(
                resource_id=replica.runtime_id, name=name, containers=plan.containers,
                ports=[(plan.target_port, "TCP")] if plan.target_port else [], restart_policy="Always",
                registry_auth={}, crash_exit_code=plan.crash_exit_code, hang_on_start=plan.never_ready,
            )  # fmt: skip
            ip = self.runtime.deploy(spec)
            replica.address = f"{ip}:{plan.target_port}" if plan.target_port else ip
            if revision.generation != generation:
                self.runtime.remove(replica.runtime_id)
                raise _Cancelled
            revision.replicas.append(replica)
            self.router.add_replicas(revision.app_id, revision.name, [replica])
            replicas.append(replica)
            if on_started is not None:
                on_started(replica)
        return replicas

    def _await_ready(self, revision: Revision, plan: RevisionPlan, replicas: list[Replica], generation: int) -> None:
        started: set[int] = set()

        def all_ready() -> bool:
            if revision.generation != generation:
                raise _Cancelled
            for replica in replicas:
                self._check_running(replica)
                if replica.ready:
                    continue
                ip = (replica.address or "").split(":")[0]
                if plan.probes.startup is not None and id(replica) not in started:
                    if not plan.probes.startup.passes(ip):
                        continue
                    started.add(id(replica))
                if plan.probes.readiness is None or plan.probes.readiness.passes(ip):
                    self.router.set_ready(replica, True)
            return all(replica.ready for replica in replicas)

        wait_until(
            all_ready, what=f"revision {revision.name} to become ready", where="its replicas' probes",
            timeout_s=plan.probes.ready_deadline_s, interval_s=plan.probes.poll_interval_s,
            hint="the readiness probe never passed",
        )  # fmt: skip

    def _check_running(self, replica: Replica) -> None:
        for container, state in self.runtime.states(replica.runtime_id).items():
            if state.status in ("exited", "dead", "restarting") or state.restart_count:
                code = state.last_exit_code if state.last_exit_code is not None else state.exit_code
                logs = (
                    self.runtime.logs(replica.runtime_id, container, tail=LOG_LINES, timestamps=False) or ""
                ).strip()
                raise _Crashed(
                    f"Container '{container}' of replica '{replica.name}' exited with code {code} "
                    f"(restarts: {state.restart_count}); its last output: {logs or '(none)'}"
                )

    def _fail(self, revision: Revision, generation: int, message: str, *, remove: bool) -> None:
        if revision.generation != generation:
            return
        revision.set_state("failed", f"Failed to provision revision '{revision.name}': {message}")
        for replica in self.router.stop_routing(revision.app_id, revision.name) if remove else []:
            self.runtime.remove(replica.runtime_id)
            revision.replicas.remove(replica)
        revision.settled.set()
        self.on_settled(revision)

    def _monitor(self, revision: Revision, plan: RevisionPlan, generation: int) -> None:
        """Keep probing readiness until the revision changes: a replica leaves the ingress after the readiness probe's
        failureThreshold misses in a row (at once if its container exited) and comes back at its first pass; a
        revision whose replicas all stop passing turns Degraded."""
        stop, misses = threading.Event(), dict[int, int]()
        threshold = plan.probes.readiness.failure_threshold if plan.probes.readiness else 1
        while not stop.wait(plan.probes.monitor_period_s) and revision.generation == generation and revision.active:
            live = [replica for replica in list(revision.replicas) if not replica.stopping]
            for replica in live:
                try:
                    self._check_running(replica)
                    ip = (replica.address or "").split(":")[0]
                    passed = plan.probes.readiness is None or plan.probes.readiness.passes(ip)
                    misses[id(replica)] = 0 if passed else misses.get(id(replica), 0) + 1
                    ready = misses[id(replica)] < threshold
                except _Crashed as crashed:
                    log.warning("replica %s of %s: %s", replica.name, revision.name, crashed)
                    ready = False
                except Exception:  # a Docker hiccup while reading state is not a verdict on the replica
                    continue
                if replica.ready and not ready:
                    log.warning("replica %s of %s leaves the ingress: readiness failed", replica.name, revision.name)
                self.router.set_ready(replica, ready)
            if revision.generation == generation and revision.active:
                revision.running_state = "Running" if any(replica.ready for replica in live) else "Degraded"

    def retire(self, revision: Revision, replicas: list[Replica] | None, grace_s: float) -> None:
        """Stop routing to replicas (default: all of the revision), let their requests finish, then remove them."""
        if replicas is not None and not replicas:
            return
        taken = self.router.stop_routing(revision.app_id, revision.name, replicas)
        taken += [replica for replica in replicas or revision.replicas if replica not in taken]
        revision.replicas = [replica for replica in revision.replicas if replica not in taken]
        threading.Thread(target=self._drain, args=(taken, grace_s), daemon=True).start()

    def _drain(self, replicas: list[Replica], grace_s: float) -> None:
        try:
            wait_until(
                lambda: self.router.idle(replicas), what="in-flight requests to finish", where="the ingress",
                timeout_s=grace_s, interval_s=0.05,
            )  # fmt: skip
        except DeploymentTimeout:
            log.warning("requests still in flight after %.0f s; stopping the replicas anyway", grace_s)
        for replica in replicas:
            self.runtime.remove(replica.runtime_id)


def _not_ready(probes: ProbeSet) -> str:
    probe = probes.readiness or probes.startup
    where = f"HTTP GET :{probe.port}{probe.path}" if probe and probe.path else f"TCP :{probe.port if probe else '?'}"
    return (
        f"its replicas did not become ready within {probes.ready_deadline_s:g} s: the {probe.kind if probe else ''} "
        f"probe ({where}) never passed. The revision gets no traffic."
    )
