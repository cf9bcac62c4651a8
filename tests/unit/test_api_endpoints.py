"""Every endpoint through an in-process ASGI client, checked against arch computed in the test."""

import math

import numpy as np
import pytest
from arch import arch_model
from fastapi.testclient import TestClient

from service.config import Settings
from service.garch.prefitted import BUILTIN_MODELS, TrainingData
from service.main import create_app

RTOL = 1e-6


def test_health_is_503_until_models_are_loaded() -> None:
    # Without entering the client the lifespan never runs, so the models are never loaded.
    response = TestClient(create_app(Settings())).get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy" and response.json()["models_loaded"] == 0


def test_health_reports_version_models_and_uptime(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["models_loaded"] == len(BUILTIN_MODELS)
    assert body["version"] and body["uptime_s"] >= 0


def test_models_are_refused_with_503_while_loading() -> None:
    response = TestClient(create_app(Settings())).get("/predict")
    assert response.status_code == 503 and response.json()["error"] == "not_ready"


def test_models_list_describes_each_fit(client: TestClient, sp500: TrainingData) -> None:
    models = {m["name"]: m for m in client.get("/models/list").json()["models"]}
    assert set(models) == set(BUILTIN_MODELS)
    garch = models["garch_1_1"]
    assert garch["spec"]["label"] == "GARCH(1,1)" and garch["n_obs"] == sp500.n_obs
    assert (garch["data_start"], garch["data_end"]) == (sp500.first_date, sp500.last_date)
    assert {round(v, 4) for v in garch["params"].values()} == {0.0564, 0.0175, 0.1022, 0.8852}
    assert set(garch["std_errors"]) == set(garch["params"])
    assert models["gjr_garch_1_1_1"]["spec"]["label"] == "GJR-GARCH(1,1,1)"
    assert models["egarch_1_1"]["spec"]["vol"] == "EGARCH"
    for model in models.values():
        assert model["converged"] and model["fit_time_ms"] > 0 and model["aic"] < model["bic"]


def test_predict_defaults_to_garch_11_horizon_5(client: TestClient, sp500: TrainingData) -> None:
    body = client.get("/predict").json()
    assert body["model"] == "garch_1_1" and body["horizon"] == 5 and body["method"] == "analytic"
    assert body["origin"] == sp500.last_date
    expected = arch_model(sp500.returns, rescale=False).fit(disp="off").forecast(horizon=5)
    np.testing.assert_allclose(body["variance"], expected.variance.to_numpy()[-1], rtol=RTOL)
    np.testing.assert_allclose(body["volatility"], np.sqrt(body["variance"]), rtol=RTOL)
    np.testing.assert_allclose(body["annualized_volatility"], np.sqrt(252) * np.array(body["volatility"]), rtol=RTOL)


@pytest.mark.parametrize("name", list(BUILTIN_MODELS))
@pytest.mark.parametrize("horizon", [1, 3, 252])
def test_predict_every_model_matches_arch(client: TestClient, sp500: TrainingData, name: str, horizon: int) -> None:
    body = client.get("/predict", params={"model": name, "horizon": horizon}).json()
    spec = BUILTIN_MODELS[name]  # type: ignore[index]
    result = arch_model(sp500.returns, vol=spec.vol, p=spec.p, o=spec.o, q=spec.q, rescale=False).fit(disp="off")
    method = spec.forecast_method(horizon)
    extra = {
        "method": "simulation",
        "simulations": 1000,
        "rng": np.random.default_rng(20181231).standard_normal,
    }
    expected = result.forecast(horizon=horizon, **(extra if method == "simulation" else {}))
    assert body["method"] == method and len(body["variance"]) == horizon
    np.testing.assert_allclose(body["variance"], expected.variance.to_numpy()[-1], rtol=RTOL)


def test_predict_twice_gives_the_same_simulated_forecast(client: TestClient) -> None:
    first = client.get("/predict", params={"model": "egarch_1_1", "horizon": 7}).json()
    second = client.get("/predict", params={"model": "egarch_1_1", "horizon": 7}).json()
    assert first["method"] == "simulation" and first["variance"] == second["variance"]


def test_custom_fit_equals_arch(client: TestClient, sp500: TrainingData) -> None:
    returns = sp500.returns[-1000:]
    payload = {"returns": returns.tolist(), "p": 1, "o": 1, "q": 1, "horizon": 4, "dist": "t"}
    body = client.post("/predict/custom", json=payload).json()
    direct = arch_model(returns, o=1, dist="t", rescale=False).fit(disp="off")
    np.testing.assert_allclose(list(body["params"].values()), direct.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(body["loglikelihood"], direct.loglikelihood, rtol=RTOL)
    np.testing.assert_allclose(
        body["forecast"]["variance"], direct.forecast(horizon=4).variance.to_numpy()[-1], rtol=RTOL
    )
    assert body["converged"] is True and body["n_obs"] == 1000 and body["spec"]["label"] == "GJR-GARCH(1,1,1)"
    assert body["fit_time_ms"] > 0 and body["warnings"] == []


def test_a_custom_fit_names_the_version_of_the_model_fitted_on_the_request(
    client: TestClient, sp500: TrainingData
) -> None:
    payload = {"returns": sp500.returns[-500:].tolist(), "horizon": 2}
    first, again = (client.post("/predict/custom", json=payload).json() for _ in range(2))
    other = client.post("/predict/custom", json={**payload, "returns": sp500.returns[-501:-1].tolist()}).json()
    egarch = client.post("/predict/custom", json={**payload, "vol": "EGARCH"}).json()
    assert first["model_version"].startswith("fitted-") and len(first["model_version"]) == len("fitted-") + 12
    assert first["model_version"] == again["model_version"], "the same request is the same model"
    assert len({first["model_version"], other["model_version"], egarch["model_version"]}) == 3


def test_seed_request_shape_is_accepted(client: TestClient, rng: np.random.Generator) -> None:
    payload = {"returns": (rng.standard_normal(250) * 1.2).tolist(), "p": 1, "q": 1, "horizon": 5}
    response = client.post("/predict/custom", json=payload)
    assert response.status_code == 200
    assert len(response.json()["forecast"]["volatility"]) == 5


def test_custom_egarch_says_it_simulated(client: TestClient, rng: np.random.Generator) -> None:
    payload = {"returns": rng.standard_normal(300).tolist(), "vol": "EGARCH", "horizon": 3, "mean": "zero"}
    body = client.post("/predict/custom", json=payload).json()
    assert body["forecast"]["method"] == "simulation" and list(body["params"]) == [
        "omega",
        "alpha[1]",
        "beta[1]",
    ]


def test_poorly_scaled_returns_fit_with_a_warning(client: TestClient, rng: np.random.Generator) -> None:
    body = client.post("/predict/custom", json={"returns": (rng.standard_normal(300) / 100).tolist()}).json()
    assert any("percent" in w for w in body["warnings"])


def test_no_response_contains_a_non_finite_number(client: TestClient, rng: np.random.Generator) -> None:
    spiky = rng.standard_normal(200)
    spiky[::17] = 999.0
    response = client.post("/predict/custom", json={"returns": spiky.tolist(), "dist": "skewt", "horizon": 252})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        body = response.json()
        numbers = [*body["params"].values(), *body["forecast"]["variance"], body["loglikelihood"]]
        assert all(math.isfinite(x) for x in numbers)


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    generated = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert len(generated) == 32 and " " not in generated


def test_unknown_path_and_method_are_json_errors(client: TestClient) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = client.delete("/health")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["allow"]


def test_openapi_documents_errors_bounds_and_enums(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    custom = schema["paths"]["/predict/custom"]["post"]
    assert {"200", "400", "413", "415", "422"} <= set(custom["responses"])
    request = schema["components"]["schemas"]["CustomFitRequest"]
    assert request["additionalProperties"] is False
    assert request["properties"]["returns"]["minItems"] == 100
    assert request["properties"]["p"]["minimum"] == 1
    assert request["properties"]["dist"]["enum"] == ["normal", "t", "skewt"]
    horizon = next(p for p in schema["paths"]["/predict"]["get"]["parameters"] if p["name"] == "horizon")
    assert (horizon["schema"]["minimum"], horizon["schema"]["maximum"]) == (1, 252)
    assert "securitySchemes" not in schema.get("components", {})
