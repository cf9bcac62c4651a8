"""Waiting with a deadline: every wait names what it waits for, polls at an interval, and fails with the cause."""

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from provisioning.errors import DeploymentTimeout

TRANSIENT_HTTP_ERRORS = (
    httpx.ConnectError,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.TimeoutException,
)


def wait_for_http_ok(
    url: str,
    *,
    timeout_s: float,
    interval_s: float = 0.1,
    is_alive: Callable[[], bool] = lambda: True,
    hint: str = "",
) -> float:
    """Poll `url` until it answers 200; returns the seconds it took. Connection errors count as 'not yet'."""
    started = time.monotonic()
    deadline = started + timeout_s
    last_seen = "no answer yet"
    with httpx.Client(timeout=min(5.0, max(interval_s * 10, 1.0))) as client:
        while True:
            try:
                response = client.get(url)
                if response.status_code == 200:
                    return time.monotonic() - started
                last_seen = f"HTTP {response.status_code} {response.text[:500]}"
            except TRANSIENT_HTTP_ERRORS as error:
                last_seen = f"{type(error).__name__}: {error}"
            if not is_alive():
                raise DeploymentTimeout(
                    "health",
                    url,
                    time.monotonic() - started,
                    last_seen,
                    "the server exited before it became healthy; see its logs",
                )
            if time.monotonic() >= deadline:
                raise DeploymentTimeout("health", url, timeout_s, last_seen, hint)
            time.sleep(interval_s)


T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout_s: float,
    interval_s: float = 0.05,
    last_seen: Callable[[], str] = lambda: "not yet",
    where: str = "here",
) -> T:
    """Poll `check` until it returns something other than None or False; returns that, or DeploymentTimeout
    naming what was awaited, where, and what was seen last."""
    started = time.monotonic()
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() - started >= timeout_s:
            raise DeploymentTimeout(what, where, timeout_s, last_seen())
        time.sleep(interval_s)
