"""Waiting with a deadline: every wait names what it waits for, polls at an interval, and fails with the cause."""

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from provisioning.errors import DeploymentTimeout

T = TypeVar("T")
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
    gives_up: Callable[[httpx.Response], str | None] = lambda response: None,
    hint: str = "",
) -> float:
    """Poll `url` until it answers 200; returns the seconds it took. Connection errors count as 'not yet'; a server
    that `is_alive` says has exited ends the wait at once, and so does an answer for which `gives_up` names a reason
    (one that says it will never become healthy)."""
    started = time.monotonic()
    seen = ["no answer yet"]
    with httpx.Client(timeout=min(5.0, max(interval_s * 10, 1.0))) as client:

        def answered() -> bool:
            try:
                response = client.get(url)
                if response.status_code == 200:
                    return True
                seen[0] = f"HTTP {response.status_code} {response.text[:500]}"
                reason = gives_up(response)
                if reason:
                    raise DeploymentTimeout("health", url, time.monotonic() - started, seen[0], reason)
            except TRANSIENT_HTTP_ERRORS as error:
                seen[0] = f"{type(error).__name__}: {error}"
            if not is_alive():
                waited = time.monotonic() - started
                raise DeploymentTimeout(
                    "health", url, waited, seen[0], "the server exited before it became healthy; see its logs"
                )
            return False

        wait_until(
            answered,
            what="health",
            where=url,
            timeout_s=timeout_s,
            interval_s=interval_s,
            last_seen=lambda: seen[0],
            hint=hint,
        )
    return time.monotonic() - started


def wait_until(
    check: Callable[[], T | None],
    *,
    what: str,
    timeout_s: float,
    interval_s: float = 0.05,
    last_seen: Callable[[], str] = lambda: "not yet",
    where: str = "here",
    hint: str = "",
) -> T:
    """Poll `check` every `interval_s` (the time a check takes counts) until it returns something other than None
    or False; returns that, or DeploymentTimeout naming what was awaited, where, and what was seen last. The one
    deadline loop of the project: every wait goes through it."""
    started = time.monotonic()
    while True:
        polled_at = time.monotonic()
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() - started >= timeout_s:
            raise DeploymentTimeout(what, where, timeout_s, last_seen(), hint)
        time.sleep(max(0.0, interval_s - (time.monotonic() - polled_at)))
