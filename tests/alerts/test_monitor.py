"""The monitor action: a line and a JSON record per check, and an exit code that is the verdict."""

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provisioning.environments.base import Deployment
from provisioning.monitoring.health_monitor import EXIT_HEALTHY, EXIT_UNHEALTHY, monitor
from provisioning.waiting import wait_until


def scripted(answers: list[int | type[httpx.TransportError]]) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose /health answers come from `answers` in order (a status, or a transport error to raise)."""
    seen: list[httpx.Request] = []
    remaining: Iterator[int | type[httpx.TransportError]] = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("GET", "/health")
        seen.append(request)
        answer = next(remaining)
        if isinstance(answer, int):
            return httpx.Response(answer, json={"status": "healthy" if answer == 200 else "unhealthy"})
        raise answer("connection refused", request=request)

    return httpx.Client(transport=httpx.MockTransport(handle)), seen


@pytest.mark.unit
def test_exits_unhealthy_on_the_nth_failure_in_a_row_and_not_before(tmp_path: Path) -> None:
    client, seen = scripted([200, 503, 200, 503, httpx.ConnectError, 503, 200])
    out, log = io.StringIO(), tmp_path / "monitor.jsonl"
    result = monitor("http://api.test", interval_s=0.001, failures_to_fail=3, log_path=log, out=out, client=client)
    assert result.exit_code == EXIT_UNHEALTHY and len(seen) == 6
    assert [c.consecutive_failures for c in result.checks] == [0, 1, 0, 1, 2, 3]
    lines = out.getvalue().splitlines()
    assert len(lines) == 6 and "OK" in lines[0] and "FAIL" in lines[-1] and "(3 in a row)" in lines[-1]
    assert "ConnectError" in lines[4]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["status"] for r in records] == [200, 503, 200, 503, None, 503]
    assert records[4]["error"].startswith("ConnectError") and all(r["response_ms"] >= 0 for r in records)
    assert all(r["url"] == "http://api.test/health" for r in records)


@pytest.mark.unit
def test_a_healthy_run_ends_at_its_duration_on_schedule(tmp_path: Path) -> None:
    client, seen = scripted([200] * 100)
    started = time.monotonic()
    result = monitor(
        "http://api.test/", interval_s=0.125, failures_to_fail=3, duration_s=0.5, out=io.StringIO(), client=client
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == EXIT_HEALTHY and result.reason == "healthy for 0.5s (5 checks every 0.125s)"
    assert len(seen) == len(result.checks) == 5  # at 0, 0.125, 0.25, 0.375 and 0.5 s
    assert 0.45 <= elapsed < 1.5


@pytest.mark.unit
def test_an_interval_longer_than_the_duration_still_watches_the_whole_duration() -> None:
    client, seen = scripted([200] * 10)
    started = time.monotonic()
    result = monitor(
        "http://api.test", interval_s=30, failures_to_fail=3, duration_s=0.5, out=io.StringIO(), client=client
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == EXIT_HEALTHY and result.reason == "healthy for 0.5s (1 check every 30s)"
    assert len(seen) == 1 and 0.5 <= elapsed < 5


@pytest.mark.unit
def test_the_log_is_appended_to_not_replaced(tmp_path: Path) -> None:
    log = tmp_path / "monitor.jsonl"
    for _ in range(2):
        client, _ = scripted([200, 200])
        monitor(
            "http://api.test",
            interval_s=0.001,
            failures_to_fail=1,
            duration_s=0.001,
            log_path=log,
            client=client,
            out=io.StringIO(),
        )
    assert len(log.read_text().splitlines()) == 4


def ok_checks(log: Path) -> int:
    return sum(1 for line in (log.read_text().splitlines() if log.exists() else []) if json.loads(line)["ok"])


def test_a_stopped_deployment_fails_the_monitor_after_n_checks(deployment_control: Deployment, tmp_path: Path) -> None:
    """Against the real service: healthy checks while it runs, exit 1 after 3 failures once it is stopped."""
    log, out = tmp_path / "monitor.jsonl", io.StringIO()
    outcome: dict[str, object] = {}
    interval_s = 0.5  # also each check's timeout: a busy machine can take longer than 0.2 s to answer one
    runner = threading.Thread(
        target=lambda: outcome.update(
            result=monitor(
                deployment_control.url, interval_s=interval_s, failures_to_fail=3, duration_s=60, log_path=log, out=out
            )
        ),
        daemon=True,
    )
    runner.start()
    wait_until(
        lambda: ok_checks(log) >= 3 or None, what="3 healthy checks in the monitor's log", where=str(log), timeout_s=20
    )
    deployment_control.stop()
    stopped_at = time.monotonic()
    runner.join(timeout=30)
    result = outcome["result"]
    assert result.exit_code == EXIT_UNHEALTHY, out.getvalue()  # type: ignore[attr-defined]
    assert time.monotonic() - stopped_at < 3 * interval_s + 5
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r["ok"] and r["status"] == 200 for r in records[:-3])
    assert [r["ok"] for r in records[-3:]] == [False, False, False]
