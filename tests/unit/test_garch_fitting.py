"""The model layer against arch itself: same data and spec give arch's numbers; known parameters are recovered."""

import numpy as np
import pytest
from arch.univariate import EGARCH, GARCH, ConstantMean, Normal

from harness.arch_reference import arch_fit
from service.garch.errors import UnprocessableSeriesError
from service.garch.fitting import build_model, fit, forecast
from service.garch.prefitted import TrainingData
from service.garch.spec import MAX_LAG, TRADING_DAYS_PER_YEAR, ModelSpec

RTOL = 1e-6
SEED, SIMULATIONS = 7, 500

SPECS = [
    ModelSpec(),
    ModelSpec(o=1),
    ModelSpec(vol="EGARCH"),
    ModelSpec(vol="EGARCH", o=1),
    ModelSpec(dist="t"),
    ModelSpec(dist="skewt", mean="zero"),
    ModelSpec(p=2, q=2),
]


def simulate_garch(n: int, params: dict[str, float], seed: int) -> np.ndarray:
    model = ConstantMean(volatility=GARCH(p=1, q=1), distribution=Normal(seed=np.random.RandomState(seed)))
    simulated = model.simulate([params["mu"], params["omega"], params["alpha"], params["beta"]], n, burn=500)
    return simulated["data"].to_numpy()


def test_sp500_garch_11_matches_arch_documentation(sp500: TrainingData) -> None:
    fitted = fit(sp500.returns, ModelSpec())
    assert {k: round(v, 4) for k, v in fitted.params.items()} == {
        "mu": 0.0564,
        "omega": 0.0175,
        "alpha[1]": 0.1022,
        "beta[1]": 0.8852,
    }
    assert fitted.n_obs == 5030 and fitted.converged and fitted.warnings == ()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.label}-{s.dist}-{s.mean}")
def test_fit_and_forecast_equal_arch_called_directly(sp500: TrainingData, spec: ModelSpec) -> None:
    returns = sp500.returns[-1500:]
    ours = fit(returns, spec)
    direct = arch_fit(returns, spec)
    np.testing.assert_allclose(list(ours.params.values()), direct.params.to_numpy(), rtol=RTOL)
    assert list(ours.params) == list(direct.params.index)
    np.testing.assert_allclose(ours.loglikelihood, direct.loglikelihood, rtol=RTOL)
    np.testing.assert_allclose([ours.aic, ours.bic], [direct.aic, direct.bic], rtol=RTOL)

    horizon = 10
    ours_forecast = forecast(ours, horizon, seed=SEED, simulations=SIMULATIONS)
    method = spec.forecast_method(horizon)
    shocks = np.random.default_rng(SEED).standard_normal  # what arch's Normal draws, seeded
    kwargs = {"method": "simulation", "simulations": SIMULATIONS, "rng": shocks}
    expected = direct.forecast(horizon=horizon, **(kwargs if method == "simulation" else {}))
    assert ours_forecast.method == method
    np.testing.assert_allclose(ours_forecast.variance, expected.variance.to_numpy()[-1], rtol=RTOL)
    np.testing.assert_allclose(ours_forecast.mean, expected.mean.to_numpy()[-1], rtol=RTOL)
    np.testing.assert_allclose(
        ours_forecast.annualized_volatility,
        np.sqrt(expected.variance.to_numpy()[-1] * TRADING_DAYS_PER_YEAR),
        rtol=RTOL,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_known_parameters_from_simulated_data(seed: int) -> None:
    truth = {"mu": 0.05, "omega": 0.02, "alpha": 0.08, "beta": 0.9}
    returns = simulate_garch(8000, truth, seed)
    fitted = fit(returns, ModelSpec())
    estimated = [fitted.params[k] for k in ("mu", "omega", "alpha[1]", "beta[1]")]
    errors = [fitted.std_errors[k] for k in ("mu", "omega", "alpha[1]", "beta[1]")]
    for value, true_value, se in zip(estimated, truth.values(), errors, strict=True):
        assert se is not None and abs(value - true_value) < 4 * se, (value, true_value, se)


def test_egarch_long_horizon_is_simulated_and_reproducible(sp500: TrainingData) -> None:
    fitted = fit(sp500.returns[-1000:], ModelSpec(vol="EGARCH"))
    one = forecast(fitted, 1, seed=SEED, simulations=SIMULATIONS)
    first = forecast(fitted, 20, seed=SEED, simulations=SIMULATIONS)
    again = forecast(fitted, 20, seed=SEED, simulations=SIMULATIONS)
    other_seed = forecast(fitted, 20, seed=SEED + 1, simulations=SIMULATIONS)
    assert one.method == "analytic" and first.method == "simulation"
    assert first.variance == again.variance
    assert first.variance != other_seed.variance


def test_constant_series_is_refused_with_a_reason() -> None:
    with pytest.raises(UnprocessableSeriesError, match="constant") as caught:
        fit(np.full(500, 0.3), ModelSpec())
    assert caught.value.reason == "constant_series" and caught.value.field == "returns"


def test_badly_scaled_returns_fit_but_carry_a_warning(rng: np.random.Generator) -> None:
    fitted = fit(rng.standard_normal(1000) * 0.01, ModelSpec())
    assert any("percent" in note for note in fitted.warnings)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"p": 0}, "p must be in"), ({"q": MAX_LAG + 1}, "q must be in"), ({"o": -1}, "o must be in")],
)
def test_spec_rejects_orders_out_of_bounds(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        (ModelSpec(), "GARCH(1,1)"),
        (ModelSpec(o=1), "GJR-GARCH(1,1,1)"),
        (ModelSpec(vol="EGARCH", o=1), "EGARCH(1,1,1)"),
    ],
)
def test_labels_follow_the_literature(spec: ModelSpec, label: str) -> None:
    assert spec.label == label


def test_build_model_maps_names_onto_arch(rng: np.random.Generator) -> None:
    model = build_model(rng.standard_normal(200), ModelSpec(vol="EGARCH", dist="skewt", mean="zero", o=1))
    assert type(model).__name__ == "ZeroMean"
    assert isinstance(model.volatility, EGARCH) and model.volatility.name == "EGARCH" and model.volatility.o == 1
    assert type(model.distribution).__name__ == "SkewStudent"
