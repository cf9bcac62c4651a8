"""Pure-ASGI middleware: request ids, metrics and access logs for every request; size and type guards for bodies.

Pure ASGI rather than Starlette's BaseHTTPMiddleware: it adds no task per request and never buffers responses.
"""

import logging
import re
import time
import uuid
from collections.abc import Collection
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, telemetry
from .traffic import traffic_of

log = logging.getLogger("service.access")

REQUEST_ID_HEADER = "x-request-id"
# Set in a request's state by the HTTP protocol when it answered the request itself (http_limits.py: a body not sent
# in time gets 408 while the app waits for it), so the request is counted and logged with that status, not as a 500.
ANSWERED_BY_SERVER = "answered_by_server"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_state(scope: Scope) -> dict[str, Any]:
    """Per-request values shared by middleware, handlers and endpoints (Starlette's `request.state`)."""
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID), counts and times it (synthetic traffic under its own
    label, service/traffic.py), and logs one JSON line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = request_state(scope)
        headers = dict(scope["headers"])
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        traffic = traffic_of(headers)
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        if traffic:
            telemetry.mark_traffic(traffic)
        metrics.HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            status = state.get(ANSWERED_BY_SERVER, status)
            route = getattr(scope.get("route"), "path", None) or state.get("route", "unmatched")
            metrics.HTTP_REQUESTS.labels(route, scope["method"], str(status), traffic).inc()
            metrics.HTTP_LATENCY.labels(route, traffic).observe(elapsed)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    **({"traffic": traffic} if traffic else {}),
                    **state.get("log_fields", {}),
                },
            )


class JsonBodyGuardMiddleware:
    """Answers 415 for a body that is not JSON and 413 for one over the limit, before anything parses it."""

    def __init__(self, app: ASGIApp, *, paths: Collection[str], max_bytes: int) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        request_state(scope)["route"] = scope["path"]
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if not (content_type == "application/json" or content_type.endswith("+json")):
            shown = content_type or "none"
            await _reject(
                scope,
                send,
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {shown}",
                "header",
            )
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _reject(
                scope,
                send,
                413,
                "payload_too_large",
                f"body is {int(declared)} bytes; the limit is {self.max_bytes}",
                "body",
            )
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await _reject(
                    scope,
                    send,
                    413,
                    "payload_too_large",
                    f"body exceeds the limit of {self.max_bytes} bytes",
                    "body",
                )
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _reject(scope: Scope, send: Send, status: int, code: str, message: str, field: str) -> None:
    body = orjson.dumps(
        {
            "error": code,
            "message": message,
            "fields": [{"field": field, "reason": message}],
            "request_id": request_state(scope).get("request_id"),
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
