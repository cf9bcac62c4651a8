"""Out-of-sample scoring of variance forecasts: is a fitted model better than what a spreadsheet would give?

Every forecaster predicts the variance of day t from returns up to t-1 only, over the last `holdout` days, and is
scored against the realized squared return of day t. QLIKE is the loss to rank by: with a noisy proxy such as r^2
it ranks forecasts as the true variance would (Patton 2011); MSE is reported beside it but is dominated by a few
crash days. The benchmarks are RiskMetrics' EWMA (lambda 0.94) and the sample variance of a trailing window.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .fitting import build_model
from .spec import ModelSpec

Forecaster = Literal["model", "ewma", "rolling"]
Benchmark = Literal["ewma", "rolling"]
EWMA_SEED_OBS = 75
"""The EWMA starts from the mean square of the first returns, as arch's backcast does; it has decayed by the window."""


@dataclass(frozen=True, slots=True)
class Losses:
    qlike: float
    mse: float


@dataclass(frozen=True, slots=True)
class OutOfSample:
    """The held-out window's realized squared returns and each forecaster's one-step-ahead variance for them."""

    start: int
    realized: np.ndarray
    forecasts: dict[Forecaster, np.ndarray]

    def losses(self) -> dict[Forecaster, Losses]:
        return {name: score(self.realized, forecast) for name, forecast in self.forecasts.items()}


def qlike(realized: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of log h + r^2 / h: Patton's QLIKE up to a term free of h, so defined on days with a zero return too."""
    return float(np.mean(np.log(forecast) + realized / forecast))


def mse(realized: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.mean((realized - forecast) ** 2))


def score(realized: np.ndarray, forecast: np.ndarray) -> Losses:
    if forecast.shape != realized.shape or not np.all(np.isfinite(forecast)) or np.any(forecast <= 0):
        raise ValueError("variance forecasts must be finite, positive and one per realized return")
    return Losses(qlike=qlike(realized, forecast), mse=mse(realized, forecast))


def model_one_step_variance(returns: np.ndarray, spec: ModelSpec, *, holdout: int, refit_every: int) -> np.ndarray:
    """arch's one-step-ahead variance for each held-out day, re-estimated on the data before every block of days.

    Within a block the parameters stay fixed and the filter runs on, so each forecast uses returns up to the day
    before only (arch's `fit(last_obs=...)` then `forecast(start=...)`).
    """
    n = _check_window(returns, holdout)
    if refit_every < 1:
        raise ValueError(f"refit_every must be at least 1, got {refit_every}")
    blocks = []
    for first in range(n - holdout, n, refit_every):
        last = min(first + refit_every, n)
        result = build_model(returns, spec).fit(disp="off", show_warning=False, last_obs=first)
        # origin first-1 forecasts day `first`; rows run to the end of the sample
        variance = result.forecast(horizon=1, start=first - 1, reindex=False).variance.to_numpy()[:, 0]
        blocks.append(variance[: last - first])
    return np.concatenate(blocks)


def ewma_variance(returns: np.ndarray, *, holdout: int, decay: float) -> np.ndarray:
    """RiskMetrics: h_t = decay * h_(t-1) + (1 - decay) * r_(t-1)^2, on raw (not demeaned) returns."""
    n = _check_window(returns, holdout)
    if not 0 < decay < 1:
        raise ValueError(f"the EWMA decay must be in (0, 1), got {decay}")
    squares = returns**2
    variance = np.empty(n + 1)
    variance[0] = float(np.mean(squares[:EWMA_SEED_OBS]))
    for t in range(n):
        variance[t + 1] = decay * variance[t] + (1 - decay) * squares[t]
    return variance[n - holdout : n]


def rolling_variance(returns: np.ndarray, *, holdout: int, window: int) -> np.ndarray:
    """The sample variance of the `window` returns before each held-out day."""
    n = _check_window(returns, holdout)
    if not 2 <= window <= n - holdout:
        raise ValueError(f"the rolling window must be 2..{n - holdout} returns before the held-out days, got {window}")
    trailing = np.lib.stride_tricks.sliding_window_view(returns[n - holdout - window : n - 1], window)
    return np.asarray(trailing.var(axis=1, ddof=1), dtype=float)


def out_of_sample(
    returns: np.ndarray,
    spec: ModelSpec,
    *,
    holdout: int,
    refit_every: int,
    ewma_decay: float,
    rolling_window: int,
) -> OutOfSample:
    """Every forecaster over the same held-out days."""
    n = _check_window(returns, holdout)
    return OutOfSample(
        start=n - holdout,
        realized=returns[n - holdout :] ** 2,
        forecasts={
            "model": model_one_step_variance(returns, spec, holdout=holdout, refit_every=refit_every),
            "ewma": ewma_variance(returns, holdout=holdout, decay=ewma_decay),
            "rolling": rolling_variance(returns, holdout=holdout, window=rolling_window),
        },
    )


def _check_window(returns: np.ndarray, holdout: int) -> int:
    n = int(returns.shape[0])
    if not 1 <= holdout <= n - EWMA_SEED_OBS:
        raise ValueError(f"the held-out window must be 1..{n - EWMA_SEED_OBS} of {n} returns, got {holdout}")
    return n
