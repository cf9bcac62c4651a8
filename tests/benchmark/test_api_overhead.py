"""B2: a custom fit over HTTP costs little more than arch alone (POST /predict/custom vs arch fit + forecast).

The client is the standard library's `http.client` on one kept-alive connection: what is measured is the API's
overhead, not a client library's (httpx adds close to 1 ms of its own per request of this size).
"""

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from harness.benchmarks.budget import Budget
from harness.benchmarks.ledger import Ledger
from harness.benchmarks.report import RatioResult, Side
from harness.benchmarks.side_by_side import interleaved_ms
from provisioning.environments.process import ProcessDeployment
from tests.benchmark.test_model_layer import HORIZON, arch_pipeline

pytestmark = pytest.mark.benchmark

N_OBS = 1000
TARGET = 1.3


@pytest.fixture(scope="module")
def custom_fit(two_workers: ProcessDeployment, sp500_returns: np.ndarray) -> Iterator[Callable[[], dict[str, Any]]]:
    """One POST /predict/custom with the last 1000 S&P 500 returns; returns the decoded answer."""
    body = json.dumps({"returns": sp500_returns[-N_OBS:].tolist(), "horizon": HORIZON}).encode()
    address = urlsplit(two_workers.url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)

    def post() -> dict[str, Any]:
        connection.request("POST", "/predict/custom", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        assert response.status == 200, f"POST /predict/custom answered {response.status}: {answer[:300]!r}"
        return json.loads(answer)  # type: ignore[no-any-return]

    try:
        yield post
    finally:
        connection.close()


def test_b2_http_latency_for_the_baseline(
    benchmark: Any, custom_fit: Callable[[], dict[str, Any]], budget: Budget
) -> None:
    benchmark.group = f"B2 POST /predict/custom, {N_OBS} returns, over HTTP"
    answer = benchmark.pedantic(custom_fit, rounds=budget.http_rounds // 2, warmup_rounds=2)
    assert answer["n_obs"] == N_OBS


def test_b2_custom_fit_over_http_costs_at_most_30_percent_over_arch(
    custom_fit: Callable[[], dict[str, Any]], sp500_returns: np.ndarray, budget: Budget, ledger: Ledger
) -> None:
    returns = sp500_returns[-N_OBS:]
    served = custom_fit()["forecast"]["variance"]
    np.testing.assert_allclose(served, arch_pipeline(returns).variance.to_numpy()[-1], rtol=1e-9)  # same answer

    def measure() -> RatioResult:
        samples = interleaved_ms(
            {"http": custom_fit, "arch": lambda: arch_pipeline(returns)}, rounds=budget.http_rounds
        )
        return RatioResult(
            key="B2",
            title=f"API overhead: POST /predict/custom ({N_OBS} returns) over HTTP / arch fit + forecast in-process",
            ours=Side("HTTP round trip", "ms", samples["http"]),
            theirs=Side("arch in-process", "ms", samples["arch"]),
            target=TARGET,
            direction="<=",
            enforced=True,
            paired=True,
        )

    ledger.record_confirmed(measure)
