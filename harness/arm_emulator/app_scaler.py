"""Container Apps' autoscaling, played for real: the replicas of each running revision follow its scale rules.

Every tick the scaler reads, per autoscaled revision, the requests its replicas are answering (at the ingress,
which counts them) and, every pollingInterval, the CPU its replicas' containers used (cgroup accounting, against
their CPU). From those it computes the replicas each rule wants (app_scale_rules.py), the largest of them, bounded
by min/max:
- HTTP: ceil(concurrency averaged over the last 15 s / concurrentRequests);
- CPU or memory utilization: the HPA's ceil(replicas x utilization / target), with its 0.1 tolerance.
More replicas than run are started at once (each takes requests when its probes pass); fewer only once no rule has
wanted more for cooldownPeriod (the HPA's stabilization window), and then the replicas that go are drained first
(no new requests, in-flight ones finish) and removed after.

The platform's timings (the 15 s window, pollingInterval, cooldownPeriod) are multiplied by the emulator's scale
clock factor (`--scale-clock`, or PUT /_emulator/scale-clock): 0.05 makes a 300 s cooldown 15 s, so a test sees a
whole scale-out and scale-in in a minute. Replica start-up, probes and draining are not scaled: they are real.
Each change is kept as an event (GET /_emulator/scaling) and logged.
"""

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.arm_emulator.app_revisions import Revision, RevisionLauncher
from harness.arm_emulator.app_routing import Replica, Router
from harness.arm_emulator.app_scale_rules import HTTP_WINDOW_S, ScaleRules
from harness.arm_emulator.container_runtime import ContainerRuntime
from harness.arm_emulator.lro import utc_now
from provisioning.kubernetes.hpa import desired_replicas

log = logging.getLogger(__name__)
TICK_S = 0.2
EVENTS_KEPT = 2000


@dataclass
class _Watch:
    """What the scaler remembers of one revision (for one generation of it)."""

    rules: ScaleRules
    concurrency: deque[tuple[float, int]] = field(default_factory=deque)  # (time, requests in flight)
    wanted: deque[tuple[float, int]] = field(default_factory=deque)  # (time, replicas the rules wanted)
    cpu_read: dict[int, tuple[float, float]] = field(default_factory=dict)  # replica -> (time, CPU seconds used)
    cpu_percent: float | None = None
    last_poll: float = float("-inf")


def wanted_replicas(rules: ScaleRules, ready: int, concurrency: float, cpu_percent: float | None) -> int:
    """The replicas the rules want now, before the cooldown and the bounds."""
    wanted = [max(1, rules.min_replicas)]
    if rules.concurrent_requests is not None:
        wanted.append(math.ceil(concurrency / rules.concurrent_requests))
    for rule in rules.resources:
        if rule.resource == "cpu" and rule.utilization_percent is not None and cpu_percent is not None:
            wanted.append(desired_replicas(max(1, ready), cpu_percent, rule.utilization_percent))
    return max(wanted)


class Autoscaler:
    """One thread for every app: reads the revisions `revisions()` lists (running ones), scales their replicas."""

    def __init__(
        self,
        revisions: Callable[[], list[tuple[Revision, float]]],
        router: Router,
        launcher: RevisionLauncher,
        runtime: ContainerRuntime,
        clock: Callable[[], float] = lambda: 1.0,
    ) -> None:
        self.revisions, self.router, self.launcher, self.runtime = revisions, router, launcher, runtime
        self.clock = clock
        self._watches: dict[tuple[int, int], _Watch] = {}
        self._events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="app-autoscaler")
        self._thread.start()

    def events(self) -> list[dict[str, Any]]:
        return list(self._events)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            live = set()
            for revision, grace_s in self.revisions():
                key = (id(revision), revision.generation)
                live.add(key)
                try:
                    self._scale(revision, grace_s, key)
                except Exception:  # one revision's trouble (a Docker hiccup) must not stop the others' scaling
                    log.exception("autoscaling revision %s", revision.name)
            for key in set(self._watches) - live:
                del self._watches[key]

    def _scale(self, revision: Revision, grace_s: float, key: tuple[int, int]) -> None:
        watch = self._watches.get(key)
        if watch is None:  # a revision's template never changes (a new template is a new revision): read it once
            scale = revision.template.get("scale")
            watch = self._watches[key] = _Watch(ScaleRules.parse(scale if isinstance(scale, dict) else None))
        rules = watch.rules
        if not rules.autoscales:
            return
        now, factor = time.monotonic(), self.clock()
        window = HTTP_WINDOW_S * factor
        watch.concurrency.append((now, self.router.in_flight(revision.app_id, revision.name)))
        while watch.concurrency and watch.concurrency[0][0] < now - window:
            watch.concurrency.popleft()
        concurrency = sum(value for _, value in watch.concurrency) / len(watch.concurrency)
        live = [replica for replica in list(revision.replicas) if not replica.stopping]
        ready = [replica for replica in live if replica.ready]
        running = len(live) + revision.pending
        if rules.resources and now - watch.last_poll >= rules.polling_interval_s * factor:
            watch.last_poll = now
            watch.cpu_percent = self._cpu_percent(revision, ready, watch, now)
        wanted = wanted_replicas(rules, len(ready), concurrency, watch.cpu_percent)
        watch.wanted.append((now, wanted))
        while watch.wanted and watch.wanted[0][0] < now - rules.cooldown_s * factor:
            watch.wanted.popleft()
        floor, ceiling = max(1, rules.min_replicas), rules.max_replicas
        target = wanted if wanted > running else max(value for _, value in watch.wanted)
        target = min(max(target, floor), ceiling)
        if target > running:
            self.launcher.scale_out(revision, target - running)
        elif target < running and not revision.pending:
            self.launcher.retire(revision, _to_remove(live, running - target), grace_s)
        else:
            return
        event = {
            "time": utc_now(), "app": revision.app_id.rsplit("/", 1)[-1], "revision": revision.name,
            "from": running, "to": target, "ready": len(ready), "concurrency": round(concurrency, 2),
            "cpuPercent": None if watch.cpu_percent is None else round(watch.cpu_percent, 1),
        }  # fmt: skip
        self._events.append(event)
        log.info(
            "revision %s: %d -> %d replicas (concurrency %.2f over %.1f s, CPU %s%%)", revision.name, running,
            target, concurrency, window, event["cpuPercent"],
        )  # fmt: skip

    def _cpu_percent(self, revision: Revision, ready: list[Replica], watch: _Watch, now: float) -> float | None:
        """The ready replicas' average CPU use since the last poll, percent of each replica's CPU."""
        plan = revision.plan
        cores = sum(container.cpu for container in plan.containers) if plan else 0.0
        if cores <= 0:
            return None
        percents, seen = [], set()
        for replica in ready:
            seen.add(id(replica))
            used = self.runtime.cpu_seconds(replica.runtime_id)
            if used is None:
                continue
            before = watch.cpu_read.get(id(replica))
            watch.cpu_read[id(replica)] = (now, used)
            if before is not None and now > before[0]:
                percents.append(100.0 * (used - before[1]) / ((now - before[0]) * cores))
        for gone in set(watch.cpu_read) - seen:
            del watch.cpu_read[gone]
        return sum(percents) / len(percents) if percents else watch.cpu_percent


def _to_remove(live: list[Replica], count: int) -> list[Replica]:
    """Which replicas a scale-in takes: those not ready first, then the newest (as a ReplicaSet chooses)."""
    not_ready = [replica for replica in live if not replica.ready]
    newest_ready = sorted((replica for replica in live if replica.ready), key=lambda r: r.created, reverse=True)
    return (not_ready + newest_ready)[:count]
