"""Load a deployment with locust (in its own process) and decide, from its stats, whether the SLOs hold.

The decision is data, not a log line: `evaluate` returns every violated threshold with what was measured.
"""

import csv
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from provisioning.config import LoadSection

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


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

    def summary(self) -> dict[str, object]:
        return {
            "users": self.users,
            "duration_s": self.duration_s,
            "total": asdict(self.total),
            "endpoints": {name: asdict(stats) for name, stats in self.endpoints.items()},
            "html_report": str(self.html),
        }


def run_locust(
    url: str, load: LoadSection, *, duration_s: float, reports: Path, api_key: str | None = None
) -> LoadReport:
    """Headless locust against `url` for `duration_s`; returns its stats (reports are written under `reports`)."""
    reports.mkdir(parents=True, exist_ok=True)
    prefix, html = reports / "load", reports / "load.html"
    env = {**os.environ, "LOAD_WEIGHTS": json.dumps(load.task_weights), "LOAD_API_KEY": api_key or ""}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        url,
        "-u",
        str(load.users),
        "-r",
        str(load.spawn_rate),
        "-t",
        f"{max(int(duration_s), 1)}s",
        "--csv",
        str(prefix),
        "--html",
        str(html),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--stop-timeout",
        "10",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration_s + 120, check=False)
    stats_path = Path(f"{prefix}_stats.csv")
    if result.returncode != 0 or not stats_path.exists():
        raise RuntimeError(f"locust failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    endpoints, total = _read_stats(stats_path)
    report = LoadReport(load.users, duration_s, endpoints, total, html, prefix)
    (reports / "load.json").write_text(json.dumps(report.summary(), indent=2))
    return report


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
