"""The replica count of one revision over time, read from ARM (the revision's replicas list) every interval on a
thread of its own, as an operator's dashboard would see it."""

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from harness.background import in_background
from provisioning.environments.azure.container_apps.revisions import ReplicaState


@dataclass(frozen=True)
class ReplicaSample:
    time: float  # unix seconds
    running: int  # replicas Container Apps reports Running (ready)
    total: int  # every replica it lists, starting ones included
    names: tuple[str, ...] = ()


@dataclass
class ReplicaWatch:
    read: Callable[[], Sequence[ReplicaState]]
    interval_s: float = 0.5
    samples: list[ReplicaSample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> ReplicaSample:
        replicas = self.read()
        names = tuple(sorted(replica.name for replica in replicas if replica.running))
        taken = ReplicaSample(time.time(), len(names), len(replicas), names)
        self.samples.append(taken)
        return taken

    def run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception as error:  # a failed read is a gap in the timeline, reported, not the end of it
                self.errors.append(f"{type(error).__name__}: {error}")

    def stop(self) -> None:
        self._stop.set()

    @property
    def latest(self) -> ReplicaSample | None:
        return self.samples[-1] if self.samples else None

    @property
    def replicas_seen(self) -> set[str]:
        return {name for sample in self.samples for name in sample.names}


@contextmanager
def watching(read: Callable[[], Sequence[ReplicaState]], interval_s: float = 0.5) -> Iterator[ReplicaWatch]:
    watch = ReplicaWatch(read, interval_s)
    watch.sample()
    with in_background(watch, "replica-watch") as running:
        yield running
