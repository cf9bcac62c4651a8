"""Which replica takes each request a container app's ingress receives.

Per app: a weight per revision (smooth weighted round-robin, so 50/50 over 200 requests is exactly 100/100), the
revision each traffic label names, and the replicas of each revision. A replica takes requests only while it is
ready and not stopping; picking one counts the request in flight until it is released, under one lock, so a
replica that is being stopped is never picked and its in-flight requests can be waited for before its containers go.
"""

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.arm_emulator.lro import utc_now


@dataclass(eq=False)
class Replica:
    name: str
    runtime_id: str  # the key its containers have in the ContainerRuntime
    created: str = field(default_factory=utc_now)
    address: str | None = None  # "127.0.0.N:port" once its containers started
    ready: bool = False
    stopping: bool = False
    in_flight: int = 0


@dataclass
class _AppRoutes:
    weights: dict[str, int] = field(default_factory=dict)  # revision name (lower) -> weight
    labels: dict[str, str] = field(default_factory=dict)  # label (lower) -> revision name (lower)
    replicas: dict[str, list[Replica]] = field(default_factory=dict)  # revision name (lower) -> its replicas
    current: dict[str, int] = field(default_factory=dict)  # smooth weighted round-robin state
    turn: dict[str, int] = field(default_factory=dict)  # round-robin position among a revision's replicas


@dataclass(frozen=True)
class Pick:
    revision: str
    replica: Replica


class Router:
    """Thread-safe: the ARM side changes routes while the ingress's event loop picks replicas."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._apps: dict[str, _AppRoutes] = {}
        self._stopped: set[str] = set()

    # -- the ARM side ---------------------------------------------------------------------------------------------
    def set_traffic(self, app: str, weights: Mapping[str, int], labels: Mapping[str, str]) -> None:
        with self._lock:
            routes = self._apps.setdefault(app.lower(), _AppRoutes())
            routes.weights = {name.lower(): weight for name, weight in weights.items()}
            routes.labels = {label.lower(): name.lower() for label, name in labels.items()}
            routes.current = {name: routes.current.get(name, 0) for name in routes.weights}

    def add_replicas(self, app: str, revision: str, replicas: Iterable[Replica]) -> None:
        with self._lock:
            routes = self._apps.setdefault(app.lower(), _AppRoutes())
            routes.replicas.setdefault(revision.lower(), []).extend(replicas)

    def set_stopped(self, app: str, stopped: bool) -> None:
        """A stopped app keeps its routes (its traffic comes back with `start`) but is answered as stopped."""
        with self._lock:
            (self._stopped.add if stopped else self._stopped.discard)(app.lower())

    def is_stopped(self, app: str) -> bool:
        with self._lock:
            return app.lower() in self._stopped

    def set_ready(self, replica: Replica, ready: bool) -> None:
        with self._lock:
            replica.ready = ready

    def stop_routing(self, app: str, revision: str, replicas: Iterable[Replica] | None = None) -> list[Replica]:
        """Take replicas (default: all of the revision) out of routing; returns them. New requests skip them at once."""
        with self._lock:
            routes = self._apps.get(app.lower())
            if routes is None:
                return []
            current = routes.replicas.get(revision.lower(), [])
            chosen = list(current) if replicas is None else [replica for replica in replicas if replica in current]
            for replica in chosen:
                replica.stopping = True
            routes.replicas[revision.lower()] = [replica for replica in current if replica not in chosen]
            return chosen

    @staticmethod
    def idle(replicas: Iterable[Replica]) -> bool:
        return all(replica.in_flight == 0 for replica in replicas)

    def forget(self, app: str) -> list[Replica]:
        """Drop the app's routes; returns every replica it had (now stopping)."""
        with self._lock:
            self._stopped.discard(app.lower())
            routes = self._apps.pop(app.lower(), None)
            replicas = [replica for group in (routes.replicas.values() if routes else []) for replica in group]
            for replica in replicas:
                replica.stopping = True
            return replicas

    def in_flight(self, app: str, revision: str) -> int:
        """Requests the revision's routed replicas are answering now: the HTTP scale rule's measure."""
        with self._lock:
            routes = self._apps.get(app.lower())
            return sum(replica.in_flight for replica in (routes.replicas.get(revision.lower(), []) if routes else []))

    def ready_count(self, app: str, revision: str) -> int:
        with self._lock:
            routes = self._apps.get(app.lower())
            group = routes.replicas.get(revision.lower(), []) if routes else []
            return sum(1 for replica in group if replica.ready and not replica.stopping)

    # -- the ingress side -----------------------------------------------------------------------------------------
    def pick(
        self, app: str, *, revision: str | None = None, label: str | None = None, avoid: frozenset[int] = frozenset()
    ) -> Pick | None:
        """A replica for one request (counted in flight until `release`), or None when none can take it."""
        with self._lock:
            routes = self._apps.get(app.lower())
            if routes is None:
                return None
            if label is not None:
                revision = routes.labels.get(label.lower())
                if revision is None:
                    return None
            chosen = revision.lower() if revision is not None else self._weighted(routes, avoid)
            if chosen is None:
                return None
            replica = self._next_replica(routes, chosen, avoid)
            if replica is None:
                return None
            replica.in_flight += 1
            return Pick(chosen, replica)

    def release(self, replica: Replica) -> None:
        with self._lock:
            replica.in_flight -= 1

    @staticmethod
    def _available(routes: _AppRoutes, revision: str, avoid: frozenset[int]) -> list[Replica]:
        return [
            replica
            for replica in routes.replicas.get(revision, [])
            if replica.ready and not replica.stopping and id(replica) not in avoid
        ]

    def _weighted(self, routes: _AppRoutes, avoid: frozenset[int]) -> str | None:
        """Smooth weighted round-robin over the revisions with weight > 0 that have a replica to take it."""
        eligible = {
            name: weight
            for name, weight in routes.weights.items()
            if weight > 0 and self._available(routes, name, avoid)
        }
        if not eligible:
            return None
        total = sum(eligible.values())
        for name, weight in eligible.items():
            routes.current[name] = routes.current.get(name, 0) + weight
        best = max(eligible, key=lambda name: routes.current[name])
        routes.current[best] -= total
        return best

    def _next_replica(self, routes: _AppRoutes, revision: str, avoid: frozenset[int]) -> Replica | None:
        available = self._available(routes, revision, avoid)
        if not available:
            return None
        turn = routes.turn.get(revision, 0)
        routes.turn[revision] = turn + 1
        return available[turn % len(available)]
