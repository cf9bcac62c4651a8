"""A continuous probe: one client sending requests back to back (keep-alive) through a deployment's address for
as long as a rollout runs, counting every answer by the revision that gave it and every failure with its reason.

Container Apps' ingress names the revision that answered in `x-ms-revision-name` (the emulator's does too); where a
front end does not, answers are counted under "?". The emulator's ingress also names the replica
(`x-ms-replica-name`), counted in `replicas`.
"""

import collections
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from harness.background import in_background
from harness.synthetic_traffic import SYNTHETIC_HEADERS

REVISION_HEADER, REPLICA_HEADER = "x-ms-revision-name", "x-ms-replica-name"


@dataclass
class ClosedLoop:
    """Requests `paths` in turn against `base_url` until stopped. A failure is any transport error or any status
    but 200; `failures_by_revision` keeps who gave each failed answer."""

    base_url: str
    paths: Sequence[str] = ("/health",)
    headers: Mapping[str, str] = field(default_factory=dict)
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    failures_by_revision: collections.Counter[str] = field(default_factory=collections.Counter)
    replicas: collections.Counter[str] = field(default_factory=collections.Counter)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=dict(self.headers), timeout=10, trust_env=False) as client:
            sent = 0
            while not self._stop.is_set():
                path = self.paths[sent % len(self.paths)]
                sent += 1
                try:
                    response = client.get(path)
                except httpx.HTTPError as error:
                    self.failures.append(f"{path}: {type(error).__name__}: {error}")
                    self.failures_by_revision["(no answer)"] += 1
                    continue
                revision = response.headers.get(REVISION_HEADER, "?")
                self.answers[revision] += 1
                self.replicas[response.headers.get(REPLICA_HEADER, "?")] += 1
                if response.status_code != 200:
                    self.failures.append(f"{path}: HTTP {response.status_code} from {revision}: {response.text[:200]}")
                    self.failures_by_revision[revision] += 1

    def stop(self) -> None:
        self._stop.set()

    @property
    def total(self) -> int:
        return sum(self.answers.values()) + self.failures_by_revision["(no answer)"]


@contextmanager
def running_probe(
    base_url: str, paths: Sequence[str] = ("/health",), headers: Mapping[str, str] | None = None
) -> Iterator[ClosedLoop]:
    """A ClosedLoop on its own thread for the duration of the block (stopped and joined on the way out); its
    requests are marked synthetic (a canary step still counts them: it judges every answer a revision gives)."""
    loop_headers = {**SYNTHETIC_HEADERS, **(headers or {})}
    with in_background(ClosedLoop(base_url, paths, loop_headers), "traffic-probe") as loop:
        yield loop
