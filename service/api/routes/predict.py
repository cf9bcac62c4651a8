"""Forecasts: from a pre-fitted model (/predict) or from a fit on the caller's returns (/predict/custom)."""

import time
from typing import Annotated

import anyio
import numpy as np
from fastapi import APIRouter, Query, Request, Response

from ... import metrics
from ...garch.fitting import FittedModel, VolatilityForecast, fit, forecast
from ...garch.model_version import fitted_version
from ...garch.spec import ModelSpec
from ...middleware import request_state
from ...schemas import (
    CustomFitRequest,
    CustomFitResponse,
    ForecastOut,
    ModelSpecOut,
    PredictQuery,
    PredictResponse,
)
from ..deps import ReadyRegistryDep, SettingsDep
from ..json_body import FastJsonRoute
from ..response_cache import ResponseCache

router = APIRouter(tags=["predictions"], route_class=FastJsonRoute)

_fit_slots: anyio.CapacityLimiter | None = None


def fit_slots(size: int) -> anyio.CapacityLimiter:
    """One limiter per worker process: fits beyond it wait instead of starving the event loop's threads."""
    global _fit_slots
    if _fit_slots is None:
        _fit_slots = anyio.CapacityLimiter(size)
    return _fit_slots


def forecast_out(result: VolatilityForecast) -> ForecastOut:
    return ForecastOut(
        horizon=result.horizon,
        method=result.method,
        mean=result.mean,
        variance=result.variance,
        volatility=result.volatility,
        annualized_volatility=result.annualized_volatility,
    )


@router.get("/predict", response_model=PredictResponse)
async def predict(request: Request, query: Annotated[PredictQuery, Query()], registry: ReadyRegistryDep) -> Response:
    cache: ResponseCache = request.app.state.response_cache  # an attribute read, cheaper than a dependency
    served = registry.models[query.model]
    request_state(request.scope)["log_fields"] = {"model": query.model, "horizon": query.horizon}
    started = time.perf_counter()
    key = (served, query.horizon)  # the served object itself: a model loaded anew would get new bodies
    body = cache.get(key)
    if body is None:
        result = served.cached_forecast(query.horizon)
        if result is None:  # a simulated horizon not asked for before: compute it off the event loop, once
            result = await anyio.to_thread.run_sync(served.forecast, query.horizon)
        response = PredictResponse(
            model=query.model,
            model_version=served.version,
            spec=ModelSpecOut.of(served.model.spec),
            origin=served.data.last_date,
            **forecast_out(result).model_dump(),
        )
        body = cache.put(key, response)
    metrics.MODEL_COMPUTE.labels(operation="forecast").observe(time.perf_counter() - started)
    metrics.PREDICTIONS.labels(model=query.model).inc()
    return Response(content=body, media_type="application/json")


@router.post(
    "/predict/custom",
    response_model=CustomFitResponse,
    responses={
        413: {"description": "The body is over the size limit (MAX_BODY_BYTES, 1 MiB by default)."},
        415: {"description": "The body is not application/json."},
        422: {"description": "The returns are valid but cannot be modelled (constant, or non-finite fit)."},
    },
)
async def predict_custom(request: Request, body: CustomFitRequest, settings: SettingsDep) -> CustomFitResponse:
    spec = ModelSpec(vol=body.vol, p=body.p, o=body.o, q=body.q, dist=body.dist, mean=body.mean)
    request_state(request.scope)["log_fields"] = {
        "model": "custom",
        "spec": spec.label,
        "horizon": body.horizon,
    }
    returns = np.asarray(body.returns, dtype=float)

    def fit_and_forecast() -> tuple[FittedModel, VolatilityForecast, str]:
        fitted = fit(returns, spec)
        version = fitted_version(spec, fitted.params, returns)  # tens of microseconds beside a fit's milliseconds
        metrics.MODEL_COMPUTE.labels(operation="fit").observe(fitted.fit_seconds)
        started = time.perf_counter()
        result = forecast(fitted, body.horizon, seed=settings.simulation_seed, simulations=settings.simulations)
        metrics.MODEL_COMPUTE.labels(operation="forecast").observe(time.perf_counter() - started)
        return fitted, result, version

    fitted, result, version = await anyio.to_thread.run_sync(
        fit_and_forecast, limiter=fit_slots(settings.fit_concurrency)
    )
    metrics.PREDICTIONS.labels(model="custom").inc()
    return CustomFitResponse(
        spec=ModelSpecOut.of(spec),
        model_version=version,
        params=fitted.params,
        std_errors=fitted.std_errors,
        loglikelihood=fitted.loglikelihood,
        aic=fitted.aic,
        bic=fitted.bic,
        n_obs=fitted.n_obs,
        converged=fitted.converged,
        fit_time_ms=round(fitted.fit_seconds * 1000, 3),
        forecast=forecast_out(result),
        warnings=list(fitted.warnings),
    )
