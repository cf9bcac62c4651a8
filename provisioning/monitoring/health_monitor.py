"""`mlops-deploy --action monitor`: watch /health the way the alert counts it, and say so with the exit code.

One check every interval (on a fixed schedule, so slow answers do not stretch it), a line per check on stdout,
a JSON line per check appended to a file, and exit 1 once `failures_to_fail` checks in a row have failed: the
same count the ApiUnhealthy alert fires on. `duration_s` bounds a run that stays healthy (exit 0).
"""

import json
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import httpx

from provisioning.config import ProjectConfig
from provisioning.waiting import TRANSIENT_HTTP_ERRORS

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1
MAX_CHECK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HealthCheck:
    """One probe of /health as it was seen: a failure is anything but 200, including no answer at all."""

    at: str
    url: str
    ok: bool
    status: int | None
    response_ms: float
    error: str | None
    consecutive_failures: int

    def line(self) -> str:
        outcome = "OK  " if self.ok else "FAIL"
        answer = str(self.status) if self.status is not None else (self.error or "no answer")
        streak = f"  ({self.consecutive_failures} in a row)" if self.consecutive_failures else ""
        return f"{self.at}  {outcome}  {answer}  {self.response_ms:.1f} ms{streak}"


@dataclass(frozen=True)
class MonitorResult:
    checks: list[HealthCheck]
    exit_code: int
    reason: str


def probe(client: httpx.Client, url: str, consecutive_failures: int) -> HealthCheck:
    """GET `url` once; a transport error is a failed check, not an exception."""
    at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    started = time.perf_counter()
    status, error = None, None
    try:
        status = client.get(url).status_code
    except TRANSIENT_HTTP_ERRORS as failure:
        error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
    elapsed_ms = (time.perf_counter() - started) * 1000
    ok = status == 200
    return HealthCheck(at, url, ok, status, round(elapsed_ms, 3), error, 0 if ok else consecutive_failures + 1)


def monitor(
    base_url: str,
    *,
    interval_s: float,
    failures_to_fail: int,
    duration_s: float | None = None,
    log_path: Path | None = None,
    out: TextIO = sys.stdout,
    client: httpx.Client | None = None,
    stop: threading.Event | None = None,
) -> MonitorResult:
    """Check `base_url`/health until `failures_to_fail` failures in a row, `duration_s` passes, or `stop` is set."""
    url = f"{base_url.rstrip('/')}/health"
    stop = stop or threading.Event()
    own_client = client is None
    http = client or httpx.Client(timeout=min(interval_s, MAX_CHECK_TIMEOUT_S))
    started = time.monotonic()
    checks: list[HealthCheck] = []
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("a") if log_path else None
    try:
        while True:
            check = probe(http, url, checks[-1].consecutive_failures if checks else 0)
            checks.append(check)
            print(check.line(), file=out, flush=True)
            if log:
                log.write(json.dumps(asdict(check)) + "\n")
                log.flush()
            if check.consecutive_failures >= failures_to_fail:
                return MonitorResult(checks, EXIT_UNHEALTHY, f"{failures_to_fail} failed checks in a row at {url}")
            next_check = started + len(checks) * interval_s
            if duration_s is not None and next_check > started + duration_s:
                # The last check is made; watching lasts the whole duration all the same.
                if stop.wait(max(0.0, started + duration_s - time.monotonic())):
                    return MonitorResult(checks, EXIT_HEALTHY, "stopped")
                every = f"{len(checks)} check{'s' if len(checks) > 1 else ''} every {interval_s:g}s"
                return MonitorResult(checks, EXIT_HEALTHY, f"healthy for {duration_s:g}s ({every})")
            if stop.wait(max(0.0, next_check - time.monotonic())):
                return MonitorResult(checks, EXIT_HEALTHY, "stopped")
    finally:
        if log:
            log.close()
        if own_client:
            http.close()


def run_monitor(
    config: ProjectConfig, base_url: str, *, duration_s: float | None, log_path: Path, interval_s: float | None = None
) -> int:
    """The CLI action: the failure count from `monitoring`, the interval from `--interval` or `monitoring`;
    returns the process exit code."""
    result = monitor(
        base_url,
        interval_s=interval_s or config.monitoring.health_check_interval_s,
        failures_to_fail=config.monitoring.failed_health_checks_before_alert,
        duration_s=duration_s,
        log_path=log_path,
    )
    print(f"monitor: {result.reason}, log {log_path}", file=sys.stderr)
    return result.exit_code
