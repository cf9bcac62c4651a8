"""Request limits enforced where uvicorn reads the socket, for a container on a public address with nothing in front.

uvicorn's httptools protocol buffers a request head of any size, waits for a first request (and for a head or body
sent a byte at a time) forever, and serves any number of connections. LimitedHttpToolsProtocol adds, per worker:

- a cap on the request head (request line and headers): 431 and the connection closed;
- a time bound on sending the head (from the connection, or from a later request's first byte) and, once the head
  is in, on sending the body: 408 and the connection closed (an idle connection is closed without an answer);
- a cap on open connections: a request on a connection beyond it gets 503 with Retry-After, then the close.

Those answers carry the API's error body (with no request id: the app never saw the request). The common path, a
request whose head arrives in one read, costs a counter and no timer beyond one per connection.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from .config import Settings

RETRY_AFTER_S = 1
IDLE, HEAD, BODY = 0, 1, 2  # what the connection is reading: between requests, a request's head, its body


def count_refusal(reason: str) -> None:
    """Count a refusal in the worker that made it. The metrics are imported here, never at the top: the supervisor
    process imports this module to hand the protocol to its workers, and a metric file of its own (a models-loaded
    gauge at 0) would pull the workers' `garch_models_loaded` (livemin) down to 0."""
    from .metrics import HTTP_REFUSED

    HTTP_REFUSED.labels(reason=reason).inc()


@dataclass(frozen=True)
class RequestLimits:
    """The limits one worker enforces on every connection (from Settings)."""

    max_head_bytes: int
    head_timeout_s: float
    body_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "RequestLimits":
        return cls(
            max_head_bytes=settings.max_request_head_bytes,
            head_timeout_s=settings.request_head_timeout_s,
            body_timeout_s=settings.request_body_timeout_s,
            max_connections=settings.max_connections_per_worker,
        )


def error_body(code: str, message: str) -> bytes:
    """The API's error body for an answer the app never saw (so it has no request id)."""
    return orjson.dumps({"error": code, "message": message, "fields": [], "request_id": None})


class _Refusal:
    """An ASGI app that answers every request with one prepared refusal (uvicorn then closes the connection)."""

    def __init__(self, status: int, code: str, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
        self.body = error_body(code, message)
        self.status = status
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self.body)).encode()),
            (b"connection", b"close"),
            *headers,
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


OVERLOADED = _Refusal(
    503,
    "overloaded",
    "this worker has too many open connections; retry shortly",
    ((b"retry-after", str(RETRY_AFTER_S).encode()),),
)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of RequestLimits (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: RequestLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._phase = IDLE
        self._head_bytes = 0  # bytes read since the last head was complete
        self._deadline: asyncio.TimerHandle | None = None
        self._over_capacity = False
        self._head_too_large = _Refusal(
            431, "request_head_too_large", f"the request line and headers exceed {limits.max_head_bytes} bytes"
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._over_capacity = len(self.connections) > self.limits.max_connections
        self._arm(self.limits.head_timeout_s)  # uvicorn itself waits for a first request forever

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase != BODY:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._phase == IDLE or self.transport.is_closing():  # IDLE: every request read is whole (most reads)
            return
        if self._phase == HEAD:
            if self._head_bytes > self.limits.max_head_bytes:
                self._disarm()
                count_refusal("head_too_large")
                self._answer_and_close(self._head_too_large.status, self._head_too_large.body)
            elif self._deadline is None:
                self._arm(self.limits.head_timeout_s)
        elif self._phase == BODY and self._deadline is None:
            self._arm(self.limits.body_timeout_s)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = HEAD

    def on_headers_complete(self) -> None:
        if self._deadline is not None:
            self._disarm()
        self._phase = BODY
        refusal = None
        if self._over_capacity:
            refusal = OVERLOADED
            count_refusal("overloaded")
        elif self._head_bytes > self.limits.max_head_bytes and self._head_size() > self.limits.max_head_bytes:
            refusal = self._head_too_large
            count_refusal("head_too_large")
        self._head_bytes = 0
        if refusal is None:
            super().on_headers_complete()
            return
        app, self.app = self.app, refusal  # the request is answered, and its connection closed, by the refusal
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._phase = IDLE
        if self._deadline is not None:
            self._disarm()

    def _head_size(self) -> int:
        """The head's size (give or take line endings), for a read that held a whole head and more."""
        return len(self.url) + 16 + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def _arm(self, timeout_s: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(timeout_s, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        count_refusal(("idle_timeout", "head_timeout", "body_timeout")[self._phase])
        if self._phase == IDLE or (self._phase == HEAD and cycle is not None and not cycle.response_complete):
            self.transport.close()  # nothing to answer, or an answer still being written: just close
            return
        if self._phase == BODY and cycle is not None:
            if cycle.response_started:  # the app answered without reading the body: only stop reading it
                self.transport.close()
                return
            from .middleware import ANSWERED_BY_SERVER

            cycle.scope["state"][ANSWERED_BY_SERVER] = 408  # counted and logged as this, not as a 500
            cycle.disconnected = True  # the app's next receive() says the client left; its answer goes nowhere
            cycle.message_event.set()
        what, timeout_s = (
            ("head", self.limits.head_timeout_s) if self._phase == HEAD else ("body", self.limits.body_timeout_s)
        )
        message = f"the request {what} was not received within {timeout_s:g} s"
        self._answer_and_close(408, error_body("request_timeout", message))

    def _answer_and_close(self, status: int, body: bytes) -> None:
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + body)
        self.transport.close()
