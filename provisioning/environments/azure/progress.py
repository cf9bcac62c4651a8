"""Waiting on Azure with a deadline, showing which step and how long it has taken so far."""

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from azure.core.exceptions import HttpResponseError

from provisioning.environments.azure.arm_errors import arm_error
from provisioning.errors import DeploymentTimeout

T = TypeVar("T")
REPORT_EVERY_S = 10.0


class Progress:
    """Prints `[step] ... 12s` lines while a step runs, and the step's total when it ends."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream

    def say(self, message: str) -> None:
        print(message, file=self._stream, flush=True)

    def wait_for_poller(self, step: str, poller: Any, timeout_s: float) -> Any:
        """Wait for an SDK long-running operation; ArmError if it ends Failed, DeploymentTimeout past the deadline."""
        started = time.monotonic()
        next_report = started + REPORT_EVERY_S
        self.say(f"[{step}] started")
        try:
            while not poller.done():
                now = time.monotonic()
                if now - started > timeout_s:
                    raise DeploymentTimeout(step, "ARM", timeout_s, f"operation status {poller.status()}")
                if now >= next_report:
                    self.say(f"[{step}] waiting... {now - started:.0f}s")
                    next_report = now + REPORT_EVERY_S
                poller.wait(timeout=min(1.0, timeout_s))
            result = poller.result()
        except HttpResponseError as error:
            raise arm_error(step, error) from error
        self.say(f"[{step}] done in {time.monotonic() - started:.1f}s")
        return result

    def wait_until(
        self,
        step: str,
        check: Callable[[], T | None],
        *,
        timeout_s: float,
        interval_s: float,
        last_seen: Callable[[], str],
    ) -> T:
        """Poll `check` until it returns something; DeploymentTimeout naming what was seen last."""
        started = time.monotonic()
        next_report = started + REPORT_EVERY_S
        self.say(f"[{step}] started")
        while True:
            value = check()
            if value is not None:
                self.say(f"[{step}] done in {time.monotonic() - started:.1f}s")
                return value
            now = time.monotonic()
            if now - started > timeout_s:
                raise DeploymentTimeout(step, "ARM", timeout_s, last_seen())
            if now >= next_report:
                self.say(f"[{step}] waiting... {now - started:.0f}s ({last_seen()})")
                next_report = now + REPORT_EVERY_S
            time.sleep(interval_s)
