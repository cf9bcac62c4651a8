"""Every error leaves the API as one JSON shape (ErrorResponse) with a stable code, the field, and the reason."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .garch.errors import UnprocessableSeriesError
from .metrics import FIT_FAILURES
from .telemetry import record_unhandled

log = logging.getLogger("service.errors")

HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """An error the API answers deliberately, with its status and code."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def error_body(request: Request, code: str, message: str, fields: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "error": code,
        "message": message,
        "fields": fields,
        "request_id": getattr(request.state, "request_id", None),
    }


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "header", "path")]
    return ".".join(parts) or (str(loc[0]) if loc else "request")


def _reason_of(error: dict[str, Any]) -> str:
    if error["type"] == "json_invalid":
        return "body is not valid JSON"
    if error["type"] == "missing" and tuple(error["loc"]) == ("body",):
        return "a JSON object body is required"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    return str(error["msg"])


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": "body" if e["type"] == "json_invalid" else _field_of(tuple(e["loc"])),
            "reason": _reason_of(e),
        }
        for e in exc.errors()
    ]
    first = fields[0] if fields else {"field": "request", "reason": "invalid"}
    message = f"{first['field']}: {first['reason']}"
    if len(fields) > 1:
        message += f" (and {len(fields) - 1} more)"
    return JSONResponse(error_body(request, "invalid_request", message, fields), status_code=400)


async def _unprocessable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnprocessableSeriesError)
    FIT_FAILURES.labels(reason=exc.reason).inc()
    fields = [{"field": exc.field, "reason": exc.message}]
    return JSONResponse(error_body(request, "unprocessable_series", exc.message, fields), status_code=422)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    fields = [{"field": exc.field, "reason": exc.message}] if exc.field else []
    return JSONResponse(error_body(request, exc.code, exc.message, fields), status_code=exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(request, code, str(exc.detail), []), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", None)})
    return JSONResponse(
        error_body(request, "internal_error", "internal error; the request id is in the server log", []),
        status_code=500,
    )


class UnexpectedErrorMiddleware:
    """Answers an unhandled exception with the 500 body itself, so the exception never reaches the server.

    Starlette's outermost ServerErrorMiddleware answers it too but then re-raises, and uvicorn, seeing the exception,
    closes the keep-alive connection without a `Connection: close`: the caller's (or a proxy's) next request on that
    connection fails with no answer at all. Placed inside the request-id middleware, so the 500 carries the id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started:  # part of an answer is on the wire: only the server can end it
                raise
            record_unhandled(error)
            response = await _unexpected(Request(scope), error)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(UnprocessableSeriesError, _unprocessable)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
