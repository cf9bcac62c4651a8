"""Every ARM call the emulator answered, so a test can list the calls a run made (and their api-versions)."""

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedRequest:
    seq: int
    time: float
    method: str
    path: str
    api_version: str | None
    resource_type: str | None
    name: str | None
    action: str | None
    kind: str  # "resource", "list", "action", "poll", "provider", "subscription"
    status: int
    error_code: str | None
    fault: str | None
    duration_ms: float


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, **fields: Any) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append(LoggedRequest(seq=self._seq, time=time.time(), **fields))

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(entry) for entry in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
