"""Load a deployment with locust (in its own process) and decide, from its stats, whether the SLOs hold.

The decision is data, not a log line: `evaluate` returns every violated threshold with what was measured.
"""

import csv
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.load.shapes import Shape
from provisioning.config import LoadSection
from provisioning.processes import ProcessGroup, free_loopback_port

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
PROJECT_ROOT = LOCUSTFILE.parents[2]


class SloViolation(AssertionError):
    """A load threshold was not met; carries the endpoint, the measure, the value and the limit."""

    def __init__(self, endpoint: str, measure: str, measured: float, limit: float, comparison: str) -> None:
        self.endpoint, self.measure, self.measured, self.limit = endpoint, measure, measured, limit
        super().__init__(
            f"{endpoint}: {measure} = {measured:.4g}, limit {comparison} {limit:.4g} "
            f"(off by {abs(measured - limit):.4g})"
        )


class SloViolations(AssertionError):
    """All thresholds a load run missed, one per line."""

    def __init__(self, violations: list[SloViolation]) -> None:
        self.violations = violations
        super().__init__(f"{len(violations)} SLO(s) missed:\n" + "\n".join(str(v) for v in violations))


@dataclass(frozen=True)
class EndpointStats:
    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class LoadReport:
    users: int
    duration_s: float
    endpoints: dict[str, EndpointStats]
    total: EndpointStats
    html: Path
    csv_prefix: Path
    workers: int = 1
    history: list["LoadSecond"] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "users": self.users,
            "workers": self.workers,
            "duration_s": self.duration_s,
            "total": asdict(self.total),
            "endpoints": {name: asdict(stats) for name, stats in self.endpoints.items()},
            "html_report": str(self.html),
        }


@dataclass(frozen=True)
class LoadSecond:
    """One second of a run, as locust's stats history has it (all endpoints together)."""

    timestamp: float  # unix seconds
    users: int
    rps: float
    p95_ms: float | None  # None while nothing has answered yet
    failures_total: int
    requests_total: int


@dataclass(frozen=True)
class LoadRun:
    """How to load: the shape over time (shapes.py), from how many locust worker processes, how users pause."""

    shape: Shape = "steady"
    workers: int = 1
    think_s: tuple[float, float] = (0.05, 0.2)
    weights: dict[str, int] | None = None  # default: the configured task_weights
    name: str = "load"  # the reports' file names: <name>.html, <name>_stats.csv, <name>.json


def run_locust(
    url: str,
    load: LoadSection,
    *,
    duration_s: float,
    reports: Path,
    api_key: str | None = None,
    run: LoadRun = LoadRun(),
) -> LoadReport:
    """Headless locust against `url` for `duration_s`, shaped as `run` says; returns its stats (reports are written
    under `reports`). With more than one worker, a master (which runs no users) and `run.workers` worker
    processes, as locust runs across machines; the stats are the master's aggregate."""
    reports.mkdir(parents=True, exist_ok=True)
    prefix, html = reports / run.name, reports / f"{run.name}.html"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])),
        "LOAD_WEIGHTS": json.dumps(run.weights if run.weights is not None else load.task_weights),
        "LOAD_API_KEY": api_key or "",
        "LOAD_THINK_S": ",".join(str(seconds) for seconds in run.think_s),
        "LOAD_SHAPE": run.shape,
        "LOAD_USERS": str(load.users),
        "LOAD_SPAWN_RATE": str(load.spawn_rate),
        "LOAD_DURATION_S": str(duration_s),
    }
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    command = [
        *locust, "--headless", "--host", url, "-t", f"{max(int(duration_s), 1) + 5}s",
        "--csv", str(prefix), "--csv-full-history", "--html", str(html), "--only-summary",
        "--exit-code-on-error", "0", "--stop-timeout", "10",
    ]  # fmt: skip
    workers: list[ProcessGroup] = []
    try:
        if run.workers > 1:
            port = free_loopback_port()
            command += [
                "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--expect-workers", str(run.workers), "--expect-workers-max-wait", "60",
            ]  # fmt: skip
            for index in range(run.workers):
                worker_command = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
                log = reports / f"{run.name}-worker-{index}.log"
                workers.append(ProcessGroup(worker_command, log_path=log, env=env, die_with_parent=True).start())
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration_s + 180, check=False)
    finally:
        for worker in workers:
            worker.stop()
    stats_path = Path(f"{prefix}_stats.csv")
    if result.returncode != 0 or not stats_path.exists():
        raise RuntimeError(f"locust failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    endpoints, total = _read_stats(stats_path)
    history = read_history(Path(f"{prefix}_stats_history.csv"))
    report = LoadReport(load.users, duration_s, endpoints, total, html, prefix, run.workers, history)
    (reports / f"{run.name}.json").write_text(json.dumps(report.summary(), indent=2))
    return report


def read_history(path: Path) -> list[LoadSecond]:
    """The Aggregated rows of locust's `--csv-full-history` file, one a second."""
    if not path.exists():
        return []
    seconds = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != "Aggregated":
                continue
            p95 = row.get("95%", "N/A")
            seconds.append(
                LoadSecond(
                    timestamp=float(row["Timestamp"]),
                    users=int(row["User Count"]),
                    rps=float(row["Requests/s"]),
                    p95_ms=None if p95 in ("N/A", "", None) else float(p95),
                    failures_total=int(row["Total Failure Count"]),
                    requests_total=int(row["Total Request Count"]),
                )
            )
    return seconds


def _read_stats(path: Path) -> tuple[dict[str, EndpointStats], EndpointStats]:
    endpoints: dict[str, EndpointStats] = {}
    total: EndpointStats | None = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            stats = EndpointStats(
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rps=float(row["Requests/s"]),
                p50_ms=float(row["50%"] or 0),
                p95_ms=float(row["95%"] or 0),
                p99_ms=float(row["99%"] or 0),
            )
            if row["Name"] == "Aggregated":
                total = stats
            else:
                endpoints[row["Name"]] = stats
    if total is None:
        raise RuntimeError(f"{path} has no Aggregated row")
    return endpoints, total


def evaluate(report: LoadReport, load: LoadSection) -> list[SloViolation]:
    """Every threshold from the configuration that the run did not meet (empty when all hold)."""
    limits = load.thresholds
    violations = []
    total = report.total
    failure_ratio = total.failures / total.requests if total.requests else 1.0
    if failure_ratio > limits.max_failure_ratio:
        violations.append(SloViolation("all", "failure ratio", failure_ratio, limits.max_failure_ratio, "<="))
    if total.rps < limits.min_rps:
        violations.append(SloViolation("all", "requests/s", total.rps, limits.min_rps, ">="))
    for endpoint, latency in limits.latency_ms.items():
        stats = report.endpoints.get(endpoint)
        if stats is None or stats.requests == 0:
            if load.task_weights.get(endpoint, 0) > 0:
                violations.append(SloViolation(endpoint, "requests", 0, 1, ">="))
            continue
        for measure, measured, limit in (
            ("p50 ms", stats.p50_ms, latency.p50),
            ("p95 ms", stats.p95_ms, latency.p95),
            ("p99 ms", stats.p99_ms, latency.p99),
        ):
            if measured > limit:
                violations.append(SloViolation(endpoint, measure, measured, limit, "<="))
    return violations
