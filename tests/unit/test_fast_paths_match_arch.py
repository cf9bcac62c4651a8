"""The service's shortcuts through arch give arch's numbers to the bit, not just to a tolerance.

Three shortcuts: remembered grid points for starting values, standard errors without pandas, and forecasts
without pandas. Bit-for-bit equality is what makes them safe to take; a change in arch that breaks it fails here.
"""

import numpy as np
import pytest
from arch.univariate import EGARCH, GARCH

from harness.arch_reference import arch_fit
from service.garch.fitting import fit, forecast, seeded_shocks
from service.garch.grid_search import volatility_process
from service.garch.prefitted import TrainingData
from service.garch.spec import ModelSpec

SPECS = [
    ModelSpec(),
    ModelSpec(o=1),
    ModelSpec(p=2, q=2),
    ModelSpec(p=1, q=0),
    ModelSpec(vol="EGARCH"),
    ModelSpec(vol="EGARCH", o=1),
    ModelSpec(dist="t"),
    ModelSpec(dist="skewt", mean="zero"),
]
SIZES = (250, 2000)


def spec_id(spec: ModelSpec) -> str:
    return f"{spec.label}-{spec.dist}-{spec.mean}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
@pytest.mark.parametrize("n_obs", SIZES)
def test_grid_cached_starting_values_are_arch_s(sp500: TrainingData, spec: ModelSpec, n_obs: int) -> None:
    resids = sp500.returns[-n_obs:] - sp500.returns[-n_obs:].mean()
    arch_process = (EGARCH if spec.vol == "EGARCH" else GARCH)(p=spec.p, o=spec.o, q=spec.q)
    assert np.array_equal(volatility_process(spec).starting_values(resids), arch_process.starting_values(resids))


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
@pytest.mark.parametrize("n_obs", SIZES)
def test_fit_and_forecasts_are_arch_s_to_the_bit(sp500: TrainingData, spec: ModelSpec, n_obs: int) -> None:
    returns = sp500.returns[-n_obs:]
    ours = fit(returns, spec)
    direct = arch_fit(returns, spec)
    assert np.array_equal(list(ours.params.values()), direct.params.to_numpy())
    standard_errors = np.array([np.nan if v is None else v for v in ours.std_errors.values()])
    assert np.array_equal(standard_errors, direct.std_err.to_numpy(), equal_nan=True)
    for horizon in (1, 5, 22):
        ours_forecast = forecast(ours, horizon, seed=7, simulations=200)
        simulated = ours_forecast.method == "simulation"
        options = {"method": "simulation", "simulations": 200, "rng": seeded_shocks(ours, 7)} if simulated else {}
        expected = ours.result.forecast(horizon=horizon, **options)
        assert np.array_equal(ours_forecast.variance, expected.variance.to_numpy()[-1])
        assert np.array_equal(ours_forecast.mean, expected.mean.to_numpy()[-1])
