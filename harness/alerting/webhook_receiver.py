"""A webhook endpoint on loopback that records every notification posted to it: the end of the alert path.

Alertmanager (and, later, an Azure action group's test notification) posts JSON here; whoever verifies alerts
reads what arrived and when, by the monotonic clock, so a time to fire is measured where the pager would be.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from typing_extensions import Self


@dataclass(frozen=True)
class Notification:
    """One POST: when it arrived (time.monotonic()), on which path, and its JSON body."""

    received_at: float
    path: str
    body: dict[str, Any]

    def alerts(self, name: str, status: str) -> list[dict[str, Any]]:
        """Alertmanager alerts in this notification with that alertname and status (firing or resolved)."""
        return [
            alert
            for alert in self.body.get("alerts", [])
            if alert.get("labels", {}).get("alertname") == name and alert.get("status") == status
        ]


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 (a free port) that answers 200 to POSTs and keeps them, in order."""

    def __init__(self, path: str = "/alerts") -> None:
        self._path = path
        self._lock = threading.Lock()
        self._received: list[Notification] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self._path}"

    def notifications(self) -> list[Notification]:
        with self._lock:
            return list(self._received)

    def first(self, name: str, status: str, *, after: float) -> Notification | None:
        """The earliest notification received after `after` (monotonic) that carries alert `name` in `status`."""
        for notification in self.notifications():
            if notification.received_at > after and notification.alerts(name, status):
                return notification
        return None

    def _record(self, path: str, raw: bytes) -> None:
        body = json.loads(raw) if raw else {}
        with self._lock:
            self._received.append(Notification(time.monotonic(), path, body if isinstance(body, dict) else {}))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    receiver._record(self.path, raw)
                except ValueError:
                    self.send_response(400)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the recorded notifications are the log

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which never ran otherwise
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
