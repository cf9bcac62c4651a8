"""Real workflows over HTTP against the live deployment, checked against arch computed in this process."""

import numpy as np
import pytest
from arch import arch_model
from httpx import Client

from service.garch.prefitted import BUILTIN_MODELS, load_sp500_returns

pytestmark = pytest.mark.integration
RTOL = 1e-6


def test_list_models_then_predict_each(api: Client) -> None:
    listed = api.get("/models/list")
    assert listed.status_code == 200
    names = [model["name"] for model in listed.json()["models"]]
    assert sorted(names) == sorted(BUILTIN_MODELS)
    for name in names:
        forecast = api.get("/predict", params={"model": name, "horizon": 10})
        assert forecast.status_code == 200, forecast.text
        body = forecast.json()
        assert body["model"] == name and len(body["volatility"]) == 10 and body["origin"] == "2018-12-31"


def test_prefitted_garch_matches_arch_documentation(api: Client) -> None:
    models = {m["name"]: m for m in api.get("/models/list").json()["models"]}
    params = models["garch_1_1"]["params"]
    assert {k: round(v, 4) for k, v in params.items()} == {
        "mu": 0.0564,
        "omega": 0.0175,
        "alpha[1]": 0.1022,
        "beta[1]": 0.8852,
    }


def test_custom_fit_on_an_sp500_slice_equals_arch(api: Client) -> None:
    returns = load_sp500_returns().returns[-750:]
    response = api.post("/predict/custom", json={"returns": returns.tolist(), "p": 1, "q": 1, "horizon": 5})
    assert response.status_code == 200, response.text
    direct = arch_model(returns, rescale=False).fit(disp="off")
    np.testing.assert_allclose(list(response.json()["params"].values()), direct.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(
        response.json()["forecast"]["variance"], direct.forecast(horizon=5).variance.to_numpy()[-1], rtol=RTOL
    )
