"""Where container apps live while the emulator runs: their revisions, their traffic and their ingress listeners.

Traffic follows Container Apps' rules. `latestRevision: true` means the latest *ready* revision (Azure: "the latest
stable revision"), so a new revision takes that share only once it is ready. In Single mode all traffic goes to the
latest ready revision, and older active revisions are deactivated once a newer one is ready (a newer one that
fails leaves the old one serving). In Multiple mode each traffic entry gives its weight to the revision it names;
revisions no entry names get none. A revision takes requests only while its replicas are ready. Deactivating a
revision stops routing to it first, lets its in-flight requests finish (up to terminationGracePeriodSeconds), and
only then removes its containers.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.arm_emulator.app_ingress import Ingress, Target
from harness.arm_emulator.app_revisions import Revision, RevisionLauncher, RevisionPlan
from harness.arm_emulator.app_routing import Router
from harness.arm_emulator.app_scaler import Autoscaler
from harness.arm_emulator.container_runtime import ContainerRuntime
from harness.arm_emulator.container_specs import RuntimeFailure
from harness.arm_emulator.lro import utc_now
from provisioning.errors import DeploymentTimeout
from provisioning.waiting import wait_until

log = logging.getLogger(__name__)
LISTEN_ATTEMPTS = 5


@dataclass(frozen=True)
class AppConfig:
    id: str
    name: str
    domain: str
    mode: str  # "single" or "multiple"
    traffic: list[dict[str, Any]]
    target_port: int | None
    grace_s: float


@dataclass
class _App:
    config: AppConfig
    revisions: dict[str, Revision] = field(default_factory=dict)  # by lower-case name, in creation order
    latest: str | None = None
    address: str | None = None
    port: int | None = None
    weights: dict[str, int] = field(default_factory=dict)


class AppHost:
    def __init__(self, runtime: ContainerRuntime, scale_clock: Callable[[], float] = lambda: 1.0) -> None:
        self.runtime = runtime
        self.router = Router()
        self.launcher = RevisionLauncher(runtime, self.router, self._settled)
        self._ingress: Ingress | None = None
        self._apps: dict[str, _App] = {}
        self._lock = threading.RLock()
        self.autoscaler = Autoscaler(self._running_revisions, self.router, self.launcher, runtime, scale_clock)

    @property
    def ingress(self) -> Ingress:
        with self._lock:
            if self._ingress is None:
                self._ingress = Ingress(self.router)
            return self._ingress

    # -- changes from ARM -----------------------------------------------------------------------------------------
    def apply(
        self, config: AppConfig, new_revision: tuple[str, dict[str, Any], Callable[[], RevisionPlan]] | None
    ) -> Revision | None:
        """Take an app's new configuration; start the revision it creates, if any (returned)."""
        with self._lock:
            app = self._apps.setdefault(config.id.lower(), _App(config))
            app.config = config
            self._ensure_listener(app)
            revision = None
            if new_revision is not None:
                name, template, plan_for = new_revision
                revision = Revision(app_id=config.id, name=name, template=template, plan_for=plan_for)
                app.revisions[name.lower()] = revision
                app.latest = name
                if app.port is not None:
                    revision.address = self._listen(
                        f"{config.id}/revisions/{name}/ingress", app.port, Target(config.id, config.name, name)
                    )
            self._refresh(app)
        if revision is not None:
            self.launcher.launch(revision)
        return revision

    def deactivate(self, app_id: str, name: str) -> None:
        with self._lock:
            app, revision = self._require(app_id, name)
            if not revision.active:
                return
            revision.active = False
            revision.generation += 1
            revision.set_state("stopped")
            revision.last_active = utc_now()
            revision.settled.set()
            self.launcher.retire(revision, None, app.config.grace_s)
            self._refresh(app)

    def activate(self, app_id: str, name: str) -> None:
        with self._lock:
            _, revision = self._require(app_id, name)
            if revision.active:
                return
            revision.active = True
        self.launcher.launch(revision)

    def restart(self, app_id: str, name: str) -> None:
        """Start fresh replicas; the old ones serve until the new ones are ready (a failed pull is tried again)."""
        with self._lock:
            _, revision = self._require(app_id, name)
        self.launcher.launch(revision)

    def stop(self, app_id: str) -> None:
        """Container Apps' stop: every revision's replicas are drained and removed; the app, its revisions (still
        active) and its traffic stay, and its addresses answer that it is stopped."""
        with self._lock:
            app = self._apps.get(app_id.lower())
            if app is None:
                return
            self.router.set_stopped(app_id, True)
            for revision in app.revisions.values():
                if revision.active:
                    revision.generation += 1
                    revision.set_state("stopped")
                    revision.settled.set()
                    self.launcher.retire(revision, None, app.config.grace_s)
            self._refresh(app)

    def start(self, app_id: str) -> list[Revision]:
        """Start the active revisions of a stopped app again (returned, to wait until they settle)."""
        with self._lock:
            app = self._apps.get(app_id.lower())
            if app is None or not self.router.is_stopped(app_id):
                return []
            self.router.set_stopped(app_id, False)
            revisions = [revision for revision in app.revisions.values() if revision.active]
        for revision in revisions:
            self.launcher.launch(revision)
        return revisions

    def stopped(self, app_id: str) -> bool:
        return self.router.is_stopped(app_id)

    def remove(self, app_id: str) -> None:
        """Stop routing to the app, let in-flight requests finish, remove its containers and its listeners."""
        with self._lock:
            app = self._apps.pop(app_id.lower(), None)
        if app is None:
            self.runtime.remove_beneath(app_id)
            return
        for revision in app.revisions.values():
            revision.active = False
            revision.generation += 1
            revision.settled.set()
        replicas = self.router.forget(app_id)
        try:
            wait_until(
                lambda: self.router.idle(replicas), what="in-flight requests to finish", where=app.config.name,
                timeout_s=app.config.grace_s, interval_s=0.05,
            )  # fmt: skip
        except DeploymentTimeout:
            log.warning("container app %s: requests still in flight at deletion", app.config.name)
        if self._ingress is not None:
            self._ingress.close(f"{app.config.id}/ingress")
            for revision in app.revisions.values():
                self._ingress.close(f"{app.config.id}/revisions/{revision.name}/ingress")
        self.runtime.remove_beneath(app_id)
        self.runtime.release_ip(f"{app.config.id}/ingress")

    def remove_all(self) -> None:
        with self._lock:
            ids = [app.config.id for app in self._apps.values()]
        for app_id in ids:
            self.remove(app_id)

    def shutdown(self) -> None:
        self.autoscaler.stop()
        self.remove_all()
        if self._ingress is not None:
            self._ingress.shutdown()

    # -- reading --------------------------------------------------------------------------------------------------
    def revisions(self, app_id: str) -> list[Revision]:
        with self._lock:
            app = self._apps.get(app_id.lower())
            return list(app.revisions.values()) if app else []

    def revision(self, app_id: str, name: str) -> Revision | None:
        with self._lock:
            app = self._apps.get(app_id.lower())
            return app.revisions.get(name.lower()) if app else None

    def view(self, app_id: str) -> dict[str, Any]:
        """latestRevisionName, latestReadyRevisionName, the app's address and the weight of each revision."""
        with self._lock:
            app = self._apps.get(app_id.lower())
            if app is None:
                return {}
            ready = self._latest_ready(app)
            latest = app.revisions.get((app.latest or "").lower())
            return {
                "latest": app.latest,
                "latest_ready": ready.name if ready else None,
                "address": app.address,
                "latest_address": latest.address if latest else None,
                "weights": dict(app.weights),
            }

    def listeners(self) -> dict[str, str]:
        return self._ingress.listeners() if self._ingress is not None else {}

    # -- internals ------------------------------------------------------------------------------------------------
    def _running_revisions(self) -> list[tuple[Revision, float]]:
        """The revisions the autoscaler scales (ready, active, of apps not stopped), each with its drain time."""
        with self._lock:
            return [
                (revision, app.config.grace_s)
                for app in self._apps.values()
                if not self.router.is_stopped(app.config.id)
                for revision in app.revisions.values()
                if revision.healthy
            ]

    def _require(self, app_id: str, name: str) -> tuple[_App, Revision]:
        app = self._apps.get(app_id.lower())
        revision = app.revisions.get(name.lower()) if app else None
        if app is None or revision is None:
            raise KeyError(name)
        return app, revision

    def _settled(self, revision: Revision) -> None:
        with self._lock:
            app = self._apps.get(revision.app_id.lower())
            if app is not None:
                self._refresh(app)

    @staticmethod
    def _latest_ready(app: _App) -> Revision | None:
        ready = [revision for revision in app.revisions.values() if revision.healthy]
        return ready[-1] if ready else None

    def _refresh(self, app: _App) -> None:
        """Recompute the weights and labels from the traffic entries; in Single mode retire older revisions."""
        ready = self._latest_ready(app)
        weights: dict[str, int] = {}
        labels: dict[str, str] = {}
        if app.config.mode == "single" or not app.config.traffic:
            weights = {ready.name: 100} if ready else {}
        else:
            for entry in app.config.traffic:
                name = (ready.name if ready else None) if entry.get("latestRevision") else entry.get("revisionName")
                if name is None:
                    continue
                key = app.revisions[name.lower()].name if name.lower() in app.revisions else name
                weights[key] = weights.get(key, 0) + int(entry.get("weight") or 0)
                if entry.get("label"):
                    labels[entry["label"]] = key
        app.weights = weights
        self.router.set_traffic(app.config.id, weights, labels)
        if app.config.mode == "single" and ready is not None:
            names = list(app.revisions)
            for key in names[: names.index(ready.name.lower())]:
                if app.revisions[key].active:
                    self.deactivate(app.config.id, key)

    def _ensure_listener(self, app: _App) -> None:
        port = app.config.target_port
        if port == app.port:
            return
        if self._ingress is not None and app.port is not None:
            self._ingress.close(f"{app.config.id}/ingress")
            for revision in app.revisions.values():
                self._ingress.close(f"{app.config.id}/revisions/{revision.name}/ingress")
                revision.address = None
        app.port, app.address = port, None
        if port is None:
            return
        app.address = self._listen(f"{app.config.id}/ingress", port, Target(app.config.id, app.config.name))
        for revision in app.revisions.values():
            key = f"{app.config.id}/revisions/{revision.name}/ingress"
            revision.address = self._listen(key, port, Target(app.config.id, app.config.name, revision.name))

    def _listen(self, key: str, port: int, target: Target) -> str:
        """A listener on a free 127.0.0.N:port (the address is held in the runtime's table under `key`)."""
        avoid = None
        for _ in range(LISTEN_ATTEMPTS):
            ip = self.runtime.allocate_ip(key, [(port, "TCP")], avoid=avoid)
            try:
                return self.ingress.listen(key, (ip, port), target)
            except OSError:
                avoid = ip
        raise RuntimeFailure("ServiceUnavailable", f"No loopback address is free for an ingress on port {port}.")
