"""Typed dependencies shared by the routes.

All are `async def`: FastAPI runs a plain `def` dependency in the thread pool, which costs two thread hand-offs per
dependency per request for what is an attribute read.
"""

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from .. import metrics
from ..config import Settings
from ..errors import ApiError
from ..model_registry import ModelRegistry
from .wrong_key_limiter import WrongKeyLimiter


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with (not re-read, not overridden per request)."""
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry  # type: ignore[no-any-return]


RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]


async def ready_registry(registry: RegistryDep) -> ModelRegistry:
    """The registry, once its models are loaded; 503 before that, like /health."""
    if not registry.ready:
        raise ApiError(503, "not_ready", registry.error or "models are still loading; retry shortly")
    return registry


ReadyRegistryDep = Annotated[ModelRegistry, Depends(ready_registry)]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Required when API_KEY is set.")


async def require_api_key(request: Request, supplied: Annotated[str | None, Depends(api_key_header)]) -> None:
    """Constant-time comparison, so the key cannot be guessed a character at a time from response times; and a
    limit on wrong keys per client address, so it cannot be guessed by trying many (see WrongKeyLimiter)."""
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if supplied is None:
        metrics.AUTH_FAILURES.labels(reason="missing").inc()
        raise ApiError(401, "unauthorized", "a valid X-API-Key header is required", field="X-API-Key")
    limiter: WrongKeyLimiter = request.app.state.wrong_key_limiter
    address = request.client.host if request.client else "unknown"
    retry_after = limiter.retry_after_s(address)
    if retry_after:
        metrics.AUTH_FAILURES.labels(reason="rate_limited").inc()
        raise ApiError(
            429,
            "too_many_wrong_keys",
            f"too many wrong API keys from this address; retry in {retry_after} s",
            field="X-API-Key",
            headers={"Retry-After": str(retry_after)},
        )
    if not hmac.compare_digest(supplied.encode(), expected.get_secret_value().encode()):
        limiter.record_wrong_key(address)
        metrics.AUTH_FAILURES.labels(reason="wrong").inc()
        raise ApiError(401, "unauthorized", "a valid X-API-Key header is required", field="X-API-Key")
