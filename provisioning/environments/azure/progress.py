"""Waiting on Azure with a deadline, showing which step and how long it has taken so far."""

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from azure.core.exceptions import HttpResponseError

from provisioning import waiting
from provisioning.environments.azure.arm_errors import arm_error

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

        def finished() -> bool:
            poller.wait(timeout=min(1.0, timeout_s))  # returns early once the operation is done
            return bool(poller.done())

        self.wait_until(
            step, finished, timeout_s=timeout_s, interval_s=0.0, last_seen=lambda: f"operation status {poller.status()}"
        )
        try:
            return poller.result()
        except HttpResponseError as error:
            raise arm_error(step, error) from error

    def wait_until(
        self,
        step: str,
        check: Callable[[], T | None],
        *,
        timeout_s: float,
        interval_s: float,
        last_seen: Callable[[], str],
    ) -> T:
        """Poll `check` until it returns something, saying every REPORT_EVERY_S how long the step has taken."""
        started = time.monotonic()
        next_report = [started + REPORT_EVERY_S]
        self.say(f"[{step}] started")

        def check_and_report() -> T | None:
            value = check()
            if value is None or value is False:
                now = time.monotonic()
                if now >= next_report[0]:
                    self.say(f"[{step}] waiting... {now - started:.0f}s ({last_seen()})")
                    next_report[0] = now + REPORT_EVERY_S
            return value

        try:
            value = waiting.wait_until(
                check_and_report,
                what=step,
                where="ARM",
                timeout_s=timeout_s,
                interval_s=interval_s,
                last_seen=last_seen,
            )
        except HttpResponseError as error:
            raise arm_error(step, error) from error
        self.say(f"[{step}] done in {time.monotonic() - started:.1f}s")
        return value
