"""Out-of-sample evaluation: each forecast uses only the past, the losses rank forecasts as the truth would."""

import numpy as np
import pytest
from arch import arch_model
from arch.univariate import GARCH, ConstantMean, Normal

from service.garch.evaluation import (
    ewma_variance,
    model_one_step_variance,
    out_of_sample,
    qlike,
    rolling_variance,
    score,
)
from service.garch.prefitted import TrainingData
from service.garch.spec import ModelSpec

RTOL = 1e-12
TRUE_PARAMS = np.array([0.05, 0.02, 0.09, 0.89])  # mu, omega, alpha, beta


@pytest.fixture(scope="module")
def simulated() -> tuple[np.ndarray, np.ndarray]:
    """Returns and their true conditional variance, from GARCH(1,1) with known parameters and a fixed seed."""
    model = ConstantMean(None, volatility=GARCH(p=1, q=1), distribution=Normal(seed=np.random.default_rng(20181231)))
    paths = model.simulate(TRUE_PARAMS, nobs=3000, burn=500)
    return paths["data"].to_numpy(), paths["volatility"].to_numpy() ** 2


def test_ewma_is_the_riskmetrics_recursion(rng: np.random.Generator) -> None:
    returns = rng.standard_normal(300)
    expected, variance = [], float(np.mean(returns[:75] ** 2))
    for value in returns:
        expected.append(variance)
        variance = 0.94 * variance + 0.06 * value**2
    np.testing.assert_allclose(ewma_variance(returns, holdout=100, decay=0.94), expected[-100:], rtol=RTOL)


def test_rolling_variance_uses_only_the_days_before(rng: np.random.Generator) -> None:
    returns = rng.standard_normal(400)
    expected = [np.var(returns[t - 50 : t], ddof=1) for t in range(300, 400)]
    np.testing.assert_allclose(rolling_variance(returns, holdout=100, window=50), expected, rtol=RTOL)


def test_model_forecasts_filter_the_window_with_parameters_estimated_before_it(sp500: TrainingData) -> None:
    returns, holdout = sp500.returns[-2000:], 250
    one_fit = model_one_step_variance(returns, ModelSpec(), holdout=holdout, refit_every=holdout)
    before = arch_model(returns[:-holdout], rescale=False).fit(disp="off")
    filtered = arch_model(returns, rescale=False).fix(before.params.to_numpy()).conditional_volatility ** 2
    np.testing.assert_allclose(one_fit, filtered[-holdout:], rtol=1e-12)


def test_refitting_re_estimates_at_each_block_start(sp500: TrainingData) -> None:
    returns, holdout, every = sp500.returns[-1500:], 120, 50
    blocks = model_one_step_variance(returns, ModelSpec(), holdout=holdout, refit_every=every)
    assert blocks.shape == (holdout,)
    start = len(returns) - holdout + 2 * every  # the third block
    params = arch_model(returns[:start], rescale=False).fit(disp="off").params.to_numpy()
    filtered = arch_model(returns, rescale=False).fix(params).conditional_volatility ** 2
    np.testing.assert_allclose(blocks[2 * every :], filtered[start:], rtol=1e-6)


def test_qlike_ranks_the_true_variance_first(simulated: tuple[np.ndarray, np.ndarray]) -> None:
    returns, true_variance = simulated
    holdout = 1000
    realized = returns[-holdout:] ** 2
    window = out_of_sample(returns, ModelSpec(), holdout=holdout, refit_every=250, ewma_decay=0.94, rolling_window=250)
    losses = window.losses()
    truth = score(realized, true_variance[-holdout:])
    assert truth.qlike < losses["model"].qlike < losses["ewma"].qlike < losses["rolling"].qlike
    assert losses["model"].qlike - truth.qlike < 0.01  # a fitted GARCH is nearly the truth


def test_qlike_is_defined_on_a_day_without_a_move() -> None:
    assert qlike(np.array([0.0, 1.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)


@pytest.mark.parametrize("forecast", [[1.0, 0.0], [1.0, np.nan], [1.0]])
def test_scores_refuse_forecasts_that_are_not_variances(forecast: list[float]) -> None:
    with pytest.raises(ValueError, match="finite, positive and one per realized return"):
        score(np.array([1.0, 1.0]), np.array(forecast))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: model_one_step_variance(r, ModelSpec(), holdout=10, refit_every=0), "refit_every"),
        (lambda r: ewma_variance(r, holdout=10, decay=1.0), "EWMA decay"),
        (lambda r: rolling_variance(r, holdout=10, window=1000), "rolling window"),
        (lambda r: ewma_variance(r, holdout=190, decay=0.94), "held-out window"),
    ],
)
def test_bad_windows_are_refused_with_the_reason(rng: np.random.Generator, call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(rng.standard_normal(200))  # type: ignore[operator]
