"""Assembles the application: settings, model loading, middleware, error handlers and routes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from . import __version__, telemetry
from .api.deps import require_api_key
from .api.response_cache import ResponseCache
from .api.routes import health, metrics, models, predict
from .api.wrong_key_limiter import WrongKeyLimiter
from .config import Settings, get_settings
from .errors import UnexpectedErrorMiddleware, install_error_handlers
from .json_logging import configure_logging
from .middleware import JsonBodyGuardMiddleware, RequestContextMiddleware
from .model_registry import ModelRegistry
from .schemas import ErrorResponse

JSON_BODY_PATHS = ("/predict/custom",)

DESCRIPTION = """Volatility forecasts from GARCH-family models, computed by
[arch](https://arch.readthedocs.io). Returns are in percent. Every error is an `ErrorResponse`:
400 when the request does not match this schema, 422 when valid returns cannot be modelled."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app; `python -m service` serves it with uvicorn's `factory=True`."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    registry = ModelRegistry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # uvicorn accepts connections only after start-up, so a worker never answers before its models are
        # loaded: with several workers, a 200 from /health means every worker that can answer is ready. A load
        # that fails leaves the worker up, answering 503 with the reason.
        await asyncio.to_thread(registry.load)
        yield
        await asyncio.to_thread(telemetry.flush)

    app = FastAPI(
        title="GARCH volatility API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses={400: {"model": ErrorResponse, "description": "The request does not match this schema."}},
    )
    app.state.settings = settings
    app.state.registry = registry
    app.state.response_cache = ResponseCache()
    app.state.wrong_key_limiter = WrongKeyLimiter(settings.wrong_key_limit, settings.wrong_key_window_s)
    protected = [Depends(require_api_key)] if settings.api_key else []
    error_responses: dict[int | str, dict[str, Any]] = {
        401: {"model": ErrorResponse, "description": "X-API-Key is missing or wrong."},
        429: {
            "model": ErrorResponse,
            "description": "Too many wrong X-API-Key values came from this client address lately.",
            "headers": {
                "Retry-After": {"description": "Seconds until a key is checked again.", "schema": {"type": "integer"}}
            },
        },
        503: {"model": ErrorResponse, "description": "Models are not loaded yet."},
    }
    # Routes are matched in order, and no two paths overlap: the most requested one goes first.
    app.include_router(predict.router, dependencies=protected, responses=error_responses)
    app.include_router(health.router)
    app.include_router(models.router, dependencies=protected, responses=error_responses)
    app.include_router(metrics.router)
    app.add_middleware(UnexpectedErrorMiddleware)  # innermost of ours: see its docstring
    app.add_middleware(JsonBodyGuardMiddleware, paths=JSON_BODY_PATHS, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    telemetry.instrument(app, settings.applicationinsights_connection_string)
    return app
