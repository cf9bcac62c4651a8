"""The named models the service serves forecasts from: fitted on arch's bundled S&P 500 data at start-up, or
rebuilt from published artifacts (service/published_models.py)."""

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..model_store.artifact import StoredArtifact
from .catalogue import BUILTIN_MODELS, DEFAULT_MODEL, ModelName
from .fitting import FittedModel, VolatilityForecast, fit, forecast
from .model_version import fitted_version
from .spec import MAX_HORIZON

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_MODEL",
    "ModelName",
    "ServedModel",
    "TrainingData",
    "fit_builtin_models",
    "load_sp500_returns",
]


@dataclass(frozen=True, slots=True)
class TrainingData:
    """A return series with its identity: where it came from and which dates it covers."""

    source: str
    returns: np.ndarray = field(repr=False)
    first_date: str
    last_date: str

    @property
    def n_obs(self) -> int:
        return int(self.returns.shape[0])


def load_sp500_returns() -> TrainingData:
    """Daily S&P 500 returns in percent from the data that ships inside arch (1999-2018)."""
    from arch.data import sp500

    prices = sp500.load()["Adj Close"]
    returns = 100 * prices.pct_change().dropna()
    return TrainingData(
        source="arch.data.sp500 (Adj Close, 100 x pct_change)",
        returns=returns.to_numpy(dtype=float),
        first_date=returns.index[0].date().isoformat(),
        last_date=returns.index[-1].date().isoformat(),
    )


class ServedModel:
    """A pre-fitted model and its forecasts: analytic ones computed once, simulated ones once per horizon.

    `published` is the artifact the model was rebuilt from; None for a model fitted at start-up. `version` names
    the model in every answer: the published version, or a `fitted-` one (model_version.py), computed once here.
    """

    def __init__(
        self,
        name: str,
        model: FittedModel,
        data: TrainingData,
        *,
        seed: int,
        simulations: int,
        published: StoredArtifact | None = None,
    ):
        self.name = name
        self.model = model
        self.data = data
        self.published = published
        self.version = published.version if published else fitted_version(model.spec, model.params, data.returns)
        self._seed = seed
        self._simulations = simulations
        analytic_horizon = MAX_HORIZON if model.spec.forecast_method(MAX_HORIZON) == "analytic" else 1
        self._analytic = forecast(model, analytic_horizon, seed=seed, simulations=simulations)
        self._simulated: dict[int, VolatilityForecast] = {}
        self._lock = threading.Lock()

    def cached_forecast(self, horizon: int) -> VolatilityForecast | None:
        """The forecast if it costs nothing now; None if it must be simulated first (call `forecast`)."""
        if self.model.spec.forecast_method(horizon) == "analytic":
            return _head(self._analytic, horizon)
        return self._simulated.get(horizon)

    def forecast(self, horizon: int) -> VolatilityForecast:
        """The forecast arch gives for this horizon (simulated with a fixed seed where it must be)."""
        cached = self.cached_forecast(horizon)
        if cached is not None:
            return cached
        with self._lock:
            if horizon not in self._simulated:
                self._simulated[horizon] = forecast(self.model, horizon, seed=self._seed, simulations=self._simulations)
            return self._simulated[horizon]


def fit_builtin_models(*, seed: int, simulations: int) -> tuple[dict[str, ServedModel], float]:
    """Fit every built-in model; returns the models and the seconds it took, which is a metric."""
    started = time.perf_counter()
    data = load_sp500_returns()
    served: dict[str, ServedModel] = {
        name: ServedModel(name, fit(data.returns, spec), data, seed=seed, simulations=simulations)
        for name, spec in BUILTIN_MODELS.items()
    }
    return served, time.perf_counter() - started


def _head(full: VolatilityForecast, horizon: int) -> VolatilityForecast:
    return VolatilityForecast(
        horizon=horizon,
        method=full.method,
        mean=full.mean[:horizon],
        variance=full.variance[:horizon],
        volatility=full.volatility[:horizon],
        annualized_volatility=full.annualized_volatility[:horizon],
    )
