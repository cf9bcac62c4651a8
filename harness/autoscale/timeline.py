"""A scaling run summed up: when the replicas came and went against the load, as JSON and as a PNG.

The figures: seconds from load start until each replica count above the starting one was ready; seconds from the
load's end until the count was back at the minimum; the failed requests of the load and of the probe that ran
throughout (scale-in included); which replicas served.
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: CI has no display

import matplotlib.pyplot as plt

from harness.autoscale.replica_watch import ReplicaSample
from harness.load.gate import LoadSecond


@dataclass(frozen=True)
class ScalingRun:
    minimum: int
    maximum: int
    load_start: float  # unix seconds
    load_stop: float
    replicas: Sequence[ReplicaSample]
    load: Sequence[LoadSecond]
    load_failures: int
    load_requests: int
    probe_requests: int
    probe_failures: int
    replicas_that_served: dict[str, int]
    events: Sequence[dict[str, Any]] = ()
    settings: dict[str, Any] | None = None

    def ready_after(self) -> dict[int, float]:
        """Seconds from load start until N replicas were ready, for each N above the count at load start."""
        start = next((s.running for s in self.replicas if s.time >= self.load_start), self.minimum)
        reached: dict[int, float] = {}
        for sample in self.replicas:
            if sample.time < self.load_start:
                continue
            for count in range(start + 1, sample.running + 1):
                reached.setdefault(count, round(sample.time - self.load_start, 1))
        return reached

    def back_at_minimum_after(self) -> float | None:
        """Seconds from the load's end until the revision ran exactly the minimum again (starting ones counted)."""
        for sample in self.replicas:
            if sample.time >= self.load_stop and sample.total == sample.running == self.minimum:
                return round(sample.time - self.load_stop, 1)
        return None

    @property
    def peak(self) -> int:
        return max((sample.running for sample in self.replicas), default=0)

    def figures(self) -> dict[str, Any]:
        return {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "peak_ready_replicas": self.peak,
            "seconds_from_load_start_to_n_ready": {str(n): s for n, s in self.ready_after().items()},
            "seconds_from_load_stop_to_minimum": self.back_at_minimum_after(),
            "load_seconds": round(self.load_stop - self.load_start, 1),
            "load_requests": self.load_requests,
            "load_failures": self.load_failures,
            "probe_requests": self.probe_requests,
            "probe_failures": self.probe_failures,
            "replicas_that_served": self.replicas_that_served,
        }

    def write(self, reports: Path, name: str = "autoscale") -> tuple[Path, Path]:
        reports.mkdir(parents=True, exist_ok=True)
        origin = self.load_start
        document = {
            "figures": self.figures(),
            "settings": self.settings or {},
            "replicas": [
                {"t": round(s.time - origin, 2), "running": s.running, "total": s.total} for s in self.replicas
            ],
            "load": [{**asdict(second), "t": round(second.timestamp - origin, 2)} for second in self.load],
            "scaling_events": list(self.events),
        }
        json_path, png_path = reports / f"{name}.json", reports / f"{name}.png"
        json_path.write_text(json.dumps(document, indent=1))
        self._plot(png_path)
        return json_path, png_path

    def _plot(self, path: Path) -> None:
        origin = self.load_start
        figure, (replicas, load) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, layout="constrained")
        times = [s.time - origin for s in self.replicas]
        replicas.step(times, [s.total for s in self.replicas], where="post", label="replicas (all)", color="#b0b0b0")
        replicas.step(times, [s.running for s in self.replicas], where="post", label="replicas ready", color="#1f77b4")
        replicas.axhline(self.minimum, linestyle=":", color="#2ca02c", label=f"minimum ({self.minimum})")
        replicas.set_ylabel("replicas")
        replicas.set_ylim(0, max(self.peak, self.minimum) + 1)
        seconds = [second.timestamp - origin for second in self.load]
        load.plot(seconds, [second.users for second in self.load], color="#ff7f0e", label="users")
        load.plot(seconds, [second.rps for second in self.load], color="#9467bd", label="requests/s")
        load.set_ylabel("users, requests/s")
        latency = load.twinx()
        latency.plot(seconds, [second.p95_ms or 0 for second in self.load], color="#d62728", label="p95 ms")
        latency.set_ylabel("p95 latency (ms)")
        for axes in (replicas, load):
            axes.axvspan(0, self.load_stop - origin, color="#ff7f0e", alpha=0.06)
        load.set_xlabel("seconds from load start (shaded: load running)")
        replicas.legend(loc="upper right")
        load.legend(loc="upper left")
        latency.legend(loc="upper right")
        figures = self.figures()
        figure.suptitle(
            f"Autoscaling under a step load: peak {figures['peak_ready_replicas']} ready, back at the minimum "
            f"{figures['seconds_from_load_stop_to_minimum']} s after the load, "
            f"{self.load_failures + self.probe_failures} failed requests"
        )
        figure.savefig(path, dpi=100)
        plt.close(figure)
