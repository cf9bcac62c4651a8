"""Fit and forecast through arch, and turn what it returns into finite, JSON-ready numbers."""

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from arch import arch_model
from arch.univariate.base import ARCHModelResult
from arch.utility.exceptions import ConvergenceWarning, DataScaleWarning

from .errors import UnprocessableSeriesError
from .grid_search import volatility_process
from .origin_forecast import origin_forecast
from .spec import TRADING_DAYS_PER_YEAR, ModelSpec

# arch reports these through the warnings module, which is process-global and not thread-safe to record;
# the same facts are read from the result (convergence flag) and the data (scale) and returned to the client.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
warnings.filterwarnings("ignore", category=DataScaleWarning)

ARCH_NUMERICAL_ERRORS = (
    ValueError,
    np.linalg.LinAlgError,
    ZeroDivisionError,
    OverflowError,
    FloatingPointError,
)
SCALE_LOW, SCALE_HIGH = 0.1, 1e4
"""arch's own DataScaleWarning band for the variance of the returns."""


@dataclass(frozen=True, slots=True)
class FittedModel:
    """A fitted model with its statistics; `result` keeps arch's object for forecasting."""

    spec: ModelSpec
    result: ARCHModelResult = field(repr=False)
    params: dict[str, float]
    std_errors: dict[str, float | None]
    loglikelihood: float
    aic: float
    bic: float
    n_obs: int
    converged: bool
    warnings: tuple[str, ...]
    fit_seconds: float


@dataclass(frozen=True, slots=True)
class VolatilityForecast:
    """Per-step forecasts from the origin, in the units of the returns (percent) and annualized."""

    horizon: int
    method: str
    mean: list[float]
    variance: list[float]
    volatility: list[float]
    annualized_volatility: list[float]


def build_model(returns: np.ndarray, spec: ModelSpec) -> Any:
    """The arch model object for a spec: the one place that maps our names onto arch's."""
    model = arch_model(
        returns,
        mean="Constant" if spec.mean == "constant" else "Zero",
        vol=spec.vol,
        p=spec.p,
        o=spec.o,
        q=spec.q,
        dist=spec.dist,
        rescale=False,
    )
    model.volatility = volatility_process(spec)
    return model


def fit(returns: np.ndarray, spec: ModelSpec) -> FittedModel:
    """Fit `spec` by maximum likelihood; raise UnprocessableSeriesError where arch cannot give finite numbers."""
    _reject_degenerate(returns)
    started = time.perf_counter()
    with np.errstate(all="ignore"):
        try:
            result = build_model(returns, spec).fit(disp="off", show_warning=False)
        except ARCH_NUMERICAL_ERRORS as error:
            raise UnprocessableSeriesError("fit_failed", f"arch could not fit this series: {error}") from error
        estimates = result.params
        try:
            std_errors = robust_std_errors(result, estimates.to_numpy())
        except ARCH_NUMERICAL_ERRORS:  # a singular Hessian: the estimates stand, their precision is unknown
            std_errors = np.full(len(estimates), np.nan)
    elapsed = time.perf_counter() - started
    params = {str(name): float(value) for name, value in estimates.items()}
    loglikelihood, aic, bic = float(result.loglikelihood), float(result.aic), float(result.bic)
    if not all(math.isfinite(v) for v in (*params.values(), loglikelihood, aic, bic)):
        raise UnprocessableSeriesError("non_finite_fit", "the fit produced non-finite parameters or likelihood")
    notes = list(_scale_warnings(returns))
    converged = result.convergence_flag == 0
    if not converged:
        notes.append(f"optimizer did not converge (flag {result.convergence_flag}); estimates may be unreliable")
    errors = {name: (float(v) if math.isfinite(v) else None) for name, v in zip(params, std_errors, strict=True)}
    if any(v is None for v in errors.values()):
        notes.append("some standard errors are not available (the covariance matrix is singular)")
    return FittedModel(
        spec=spec,
        result=result,
        params=params,
        std_errors=errors,
        loglikelihood=loglikelihood,
        aic=aic,
        bic=bic,
        n_obs=int(result.nobs),
        converged=converged,
        warnings=tuple(notes),
        fit_seconds=elapsed,
    )


def robust_std_errors(result: ARCHModelResult, params: np.ndarray) -> np.ndarray:
    """arch's `result.std_err` (Bollerslev-Wooldridge), to the bit, without the DataFrame and Series around it."""
    return np.asarray(np.sqrt(np.diag(result.model.compute_param_cov(params))), dtype=float)


def forecast(model: FittedModel, horizon: int, *, seed: int, simulations: int) -> VolatilityForecast:
    """Forecast `horizon` steps from the end of the sample, simulating where arch has no closed form."""
    method = model.spec.forecast_method(horizon)
    shocks = seeded_shocks(model, seed) if method == "simulation" else None
    with np.errstate(all="ignore"):
        mean, variance = origin_forecast(model.result, horizon, method, simulations=simulations, rng=shocks)
    if not (np.all(np.isfinite(variance)) and np.all(np.isfinite(mean)) and np.all(variance >= 0)):
        raise UnprocessableSeriesError("non_finite_forecast", "the fitted model forecasts a non-finite variance")
    volatility = np.sqrt(variance)
    return VolatilityForecast(
        horizon=horizon,
        method=method,
        mean=mean.tolist(),
        variance=variance.tolist(),
        volatility=volatility.tolist(),
        annualized_volatility=(volatility * math.sqrt(TRADING_DAYS_PER_YEAR)).tolist(),
    )


def seeded_shocks(model: FittedModel, seed: int) -> Callable[[Any], np.ndarray]:
    """Standardized shocks from the model's own distribution, seeded so a simulated forecast is reproducible.

    arch draws from the distribution's unseeded generator by default, and `random_state` only seeds bootstraps.
    """
    distribution = type(model.result.model.distribution)(seed=np.random.default_rng(seed))
    shape_params = model.result.params.to_numpy()[len(model.params) - distribution.num_params :]
    return distribution.simulate(shape_params)


def _reject_degenerate(returns: np.ndarray) -> None:
    spread = float(np.ptp(returns))
    if spread == 0.0 or float(np.var(returns)) < 1e-12:
        raise UnprocessableSeriesError(
            "constant_series", "returns are constant: a volatility model needs a series that varies"
        )


def _scale_warnings(returns: np.ndarray) -> list[str]:
    variance = float(np.var(returns))
    if SCALE_LOW <= variance < SCALE_HIGH:
        return []
    return [
        f"variance of the returns is {variance:.3g}, outside arch's well-conditioned band "
        f"[{SCALE_LOW}, {SCALE_HIGH:g}); give returns in percent (100 x simple or log returns)"
    ]
