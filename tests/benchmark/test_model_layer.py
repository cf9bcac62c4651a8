"""B1: the service's model layer costs no more than arch called directly (fit + forecast GARCH(1,1))."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from arch import arch_model

from harness.benchmarks.budget import Budget
from harness.benchmarks.ledger import Ledger
from harness.benchmarks.report import RatioResult, Side
from harness.benchmarks.side_by_side import interleaved_ms
from service.config import Settings
from service.garch.fitting import VolatilityForecast, fit, forecast
from service.garch.spec import ModelSpec

pytestmark = pytest.mark.benchmark

SIZES = (250, 1000, 5000)
HORIZON = 5
TARGET = 1.10
SETTINGS = Settings()


def service_pipeline(returns: np.ndarray) -> VolatilityForecast:
    """What /predict/custom computes: the fit with its statistics, then the forecast."""
    return forecast(fit(returns, ModelSpec()), HORIZON, seed=SETTINGS.simulation_seed, simulations=SETTINGS.simulations)


def arch_pipeline(returns: np.ndarray) -> Any:
    """arch as its documentation shows it."""
    return arch_model(returns, vol="GARCH", p=1, q=1).fit(disp="off").forecast(horizon=HORIZON)


PIPELINES: dict[str, Callable[[np.ndarray], object]] = {"service": service_pipeline, "arch": arch_pipeline}


@pytest.mark.parametrize("n_obs", SIZES)
@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_b1_latency_for_the_baseline(
    benchmark: Any, pipeline: str, n_obs: int, sp500_returns: np.ndarray, budget: Budget
) -> None:
    """Absolute times for pytest-benchmark's JSON and `--benchmark-compare`; the ratio is the next test's job."""
    benchmark.group = f"B1 fit+forecast GARCH(1,1), {n_obs} returns"
    returns = sp500_returns[-n_obs:]
    result = benchmark.pedantic(PIPELINES[pipeline], args=(returns,), rounds=budget.model_rounds // 2, warmup_rounds=1)
    assert result is not None


@pytest.mark.parametrize("n_obs", SIZES)
def test_b1_service_model_layer_costs_at_most_10_percent_over_arch(
    n_obs: int, sp500_returns: np.ndarray, budget: Budget, ledger: Ledger
) -> None:
    returns = sp500_returns[-n_obs:]
    ours, theirs = service_pipeline(returns), arch_pipeline(returns)
    np.testing.assert_allclose(ours.variance, theirs.variance.to_numpy()[-1], rtol=1e-9)  # the same answer
    pipelines = {"service": lambda: service_pipeline(returns), "arch": lambda: arch_pipeline(returns)}

    def measure() -> RatioResult:
        samples = interleaved_ms(pipelines, rounds=budget.model_rounds)
        return RatioResult(
            key=f"B1 n={n_obs}",
            title=f"model layer: service / arch, fit + forecast GARCH(1,1) on {n_obs} S&P 500 returns",
            ours=Side("service fit+forecast", "ms", samples["service"]),
            theirs=Side("arch fit+forecast", "ms", samples["arch"]),
            target=TARGET,
            direction="<=",
            enforced=True,
            paired=True,
        )

    ledger.record_confirmed(measure)
