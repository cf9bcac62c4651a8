"""Long-running operations as ARM reports them: an Azure-AsyncOperation status resource, or a Location to poll.

The first poll of every operation answers InProgress (so a client's polling loop is always exercised); later polls
answer the real state. A poll of an operation still running waits up to `hold_s` for it to finish before answering
InProgress, which keeps a client with polling_interval=0 from spinning.
"""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from harness.arm_emulator.errors import ArmError

Status = Literal["InProgress", "Succeeded", "Failed", "Canceled"]
Style = Literal["operations", "operationresults"]


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Operation:
    id: str
    subscription: str
    namespace: str
    location: str
    api_version: str
    method: str
    resource_id: str
    resource_type: str
    # For a Location-style PUT (storage accounts), the body the final 200 carries.
    final_body: Callable[[], dict[str, Any] | None] | None = None
    status: Status = "InProgress"
    error: dict[str, Any] | None = None
    error_status: int = 400
    started: str = field(default_factory=utc_now)
    ended: str | None = None
    polls: int = 0
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def path(self, style: Style) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{self.namespace}/locations/{self.location}/{style}/{self.id}"
        )

    def url(self, endpoint: str, style: Style) -> str:
        return f"{endpoint}{self.path(style)}?api-version={self.api_version}"

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def finish(self, status: Status, error: dict[str, Any] | None = None, error_status: int = 400) -> None:
        if self.done:
            return
        self.status, self.error, self.error_status = status, error, error_status
        self.ended = utc_now()
        self._done.set()

    def wait(self, timeout_s: float) -> bool:
        return self._done.wait(timeout_s)

    def status_body(self, status: Status) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.path("operations"),
            "name": self.id,
            "status": status,
            "startTime": self.started,
        }
        if status != "InProgress":
            body["endTime"] = self.ended
        if status == "Failed" and self.error:
            body["error"] = self.error
        return body


class OperationBook:
    """Every operation this emulator started, by id."""

    def __init__(self, *, hold_s: float) -> None:
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()
        self._hold_s = hold_s

    def start(self, **fields: Any) -> Operation:
        operation = Operation(id=str(uuid.uuid4()), **fields)
        with self._lock:
            self._operations[operation.id] = operation
        return operation

    def get(self, operation_id: str) -> Operation:
        with self._lock:
            operation = self._operations.get(operation_id.lower())
        if operation is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{operation_id}' was not found.")
        return operation

    def observe(self, operation: Operation) -> Status:
        """The status a poll reports now: InProgress on the first poll, then the operation's state."""
        with self._lock:
            operation.polls += 1
            first = operation.polls == 1
        if first:
            return "InProgress"
        if not operation.done:
            deadline = time.monotonic() + self._hold_s
            operation.wait(max(0.0, deadline - time.monotonic()))
        return operation.status if operation.done else "InProgress"

    def clear(self) -> None:
        with self._lock:
            self._operations.clear()
