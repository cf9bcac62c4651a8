"""B2: a custom fit over HTTP costs little more than arch alone (POST /predict/custom vs arch fit + forecast)."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from provisioning.benchmark_report import RatioResult, Side
from provisioning.process import ProcessDeployment
from tests.benchmark.budget import Budget
from tests.benchmark.ledger import Ledger
from tests.benchmark.side_by_side import interleaved_ms
from tests.benchmark.test_model_layer import HORIZON, arch_pipeline

pytestmark = pytest.mark.benchmark

N_OBS = 1000
TARGET = 1.3


@pytest.fixture(scope="module")
def custom_fit(two_workers: ProcessDeployment, sp500_returns: np.ndarray) -> Iterator[Callable[[], httpx.Response]]:
    """One POST /predict/custom with the last 1000 S&P 500 returns, on a kept-alive connection."""
    body = json.dumps({"returns": sp500_returns[-N_OBS:].tolist(), "horizon": HORIZON}).encode()
    headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=two_workers.url, timeout=30) as client:

        def post() -> httpx.Response:
            response = client.post("/predict/custom", content=body, headers=headers)
            response.raise_for_status()
            return response

        yield post


def test_b2_http_latency_for_the_baseline(
    benchmark: Any, custom_fit: Callable[[], httpx.Response], budget: Budget
) -> None:
    benchmark.group = f"B2 POST /predict/custom, {N_OBS} returns, over HTTP"
    response = benchmark.pedantic(custom_fit, rounds=budget.http_rounds // 2, warmup_rounds=2)
    assert response.json()["n_obs"] == N_OBS


def test_b2_custom_fit_over_http_costs_at_most_30_percent_over_arch(
    custom_fit: Callable[[], httpx.Response], sp500_returns: np.ndarray, budget: Budget, ledger: Ledger
) -> None:
    returns = sp500_returns[-N_OBS:]
    served = custom_fit().json()["forecast"]["variance"]
    np.testing.assert_allclose(served, arch_pipeline(returns).variance.to_numpy()[-1], rtol=1e-9)  # same answer
    samples = interleaved_ms({"http": custom_fit, "arch": lambda: arch_pipeline(returns)}, rounds=budget.http_rounds)
    ledger.record(
        RatioResult(
            key="B2",
            title=f"API overhead: POST /predict/custom ({N_OBS} returns) over HTTP / arch fit + forecast in-process",
            ours=Side("HTTP round trip", "ms", samples["http"]),
            theirs=Side("arch in-process", "ms", samples["arch"]),
            target=TARGET,
            direction="<=",
            enforced=True,
            paired=True,
        )
    )
