"""arch's forecast from the end of the sample, computed the way arch computes it, without its pandas frames.

`ARCHModelResult.forecast` spends about three quarters of its time wrapping a few numbers in DataFrames. For the
models the service fits (constant or zero mean, no lags, no regressors) arch's mean-model forecast reduces to the
volatility process's own forecast, fed the same residuals, backcast and variance bounds, plus a flat mean; this
module makes exactly those calls, so the numbers are arch's to the bit (tests/unit/test_origin_forecast.py).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from arch.univariate.base import ARCHModelResult

from .spec import ForecastMethod


def origin_forecast(
    result: ARCHModelResult,
    horizon: int,
    method: ForecastMethod,
    *,
    simulations: int,
    rng: Callable[[Any], np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (mean, variance) forecasts from the last observation, as arch's `result.forecast` gives them."""
    model = result.model
    params = result.params.to_numpy()
    n_mean, n_vol = model.num_params, model.volatility.num_params
    mean_params, vol_params = params[:n_mean], params[n_mean : n_mean + n_vol]
    resids = np.asarray(model.resids(mean_params), dtype=float)
    volatility = model.volatility
    forecast = volatility.forecast(
        vol_params,
        resids,
        volatility.backcast(resids),
        volatility.variance_bounds(resids, 2.0),
        start=resids.shape[0] - 1,
        horizon=horizon,
        method=method,
        simulations=simulations,
        rng=rng,
    )
    assert forecast.forecasts is not None  # arch fills it for every method
    constant = float(mean_params[0]) if n_mean else 0.0
    mean = np.full(horizon, constant + 0.0)  # arch's AR recursion without lags: constant + (empty . empty)
    return mean, np.asarray(forecast.forecasts[-1], dtype=float)
