"""API key enforcement, the metrics a dashboard relies on, and the JSON log lines a log query reads."""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from harness.prometheus_text import sample
from service.traffic import SYNTHETIC_HEADER

KEY = "s3cret-key-value"
PROTECTED = [("GET", "/predict"), ("GET", "/models/list"), ("POST", "/predict/custom")]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("supplied", [None, "wrong", KEY[:-1]])
def test_protected_routes_need_the_key(make_client: Any, method: str, path: str, supplied: str | None) -> None:
    client = make_client(api_key=KEY)
    headers = {"X-API-Key": supplied} if supplied else {}
    response = client.request(method, path, headers=headers, json={"returns": [1.0, 2.0] * 60})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized" and response.json()["fields"][0]["field"] == "X-API-Key"


def test_the_right_key_opens_protected_routes_and_health_metrics_stay_open(make_client: Any) -> None:
    client = make_client(api_key=KEY)
    assert client.get("/predict", headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/models/list", headers={"X-API-Key": KEY}).status_code == 200
    assert client.get("/health").status_code == 200 and client.get("/metrics").status_code == 200
    security = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert security["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Required when API_KEY is set.",
    }


def test_request_counters_move_by_exactly_the_requests_made(client: TestClient) -> None:
    before = client.get("/metrics").text
    for _ in range(3):
        client.get("/predict", params={"model": "gjr_garch_1_1_1"})
    client.get("/predict", params={"horizon": "0"})
    after = client.get("/metrics").text
    ok = {"route": "/predict", "method": "GET", "status": "200", "traffic": ""}
    bad = {"route": "/predict", "method": "GET", "status": "400", "traffic": ""}
    assert sample(after, "garch_http_requests_total", **ok) - sample(before, "garch_http_requests_total", **ok) == 3
    assert sample(after, "garch_http_requests_total", **bad) - sample(before, "garch_http_requests_total", **bad) == 1
    predictions = "garch_predictions_total"
    assert (
        sample(after, predictions, model="gjr_garch_1_1_1") - sample(before, predictions, model="gjr_garch_1_1_1") == 3
    )
    count = "garch_http_request_duration_seconds_count"
    assert sample(after, count, route="/predict", traffic="") - sample(before, count, route="/predict", traffic="") == 4


def test_synthetic_requests_are_counted_under_their_own_label(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """A verification run's requests (X-Garch-Synthetic: 1) move only the `traffic="synthetic"` series, which the
    alert rules leave out; any other value of the header is ordinary traffic."""
    before = client.get("/metrics").text
    for _ in range(2):
        client.get("/predict", params={"horizon": "0"}, headers={SYNTHETIC_HEADER: "1"})
    client.get("/predict", params={"horizon": "0"}, headers={SYNTHETIC_HEADER: "yes"})
    after = client.get("/metrics").text
    counter, count = "garch_http_requests_total", "garch_http_request_duration_seconds_count"
    bad = {"route": "/predict", "method": "GET", "status": "400"}

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved(counter, **bad, traffic="synthetic") == 2
    assert moved(counter, **bad, traffic="") == 1
    assert moved(count, route="/predict", traffic="synthetic") == 2
    assert moved(count, route="/predict", traffic="") == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    marked = [line.get("traffic") for line in lines if line.get("path") == "/predict"]
    assert marked == ["synthetic", "synthetic", None]


def test_metrics_cover_fits_failures_load_time_and_the_process(client: TestClient) -> None:
    client.post("/predict/custom", json={"returns": [0.0] * 150})
    client.post("/predict/custom", json={"returns": [((i * 7) % 5 - 2) / 2 for i in range(150)]})
    text = client.get("/metrics").text
    assert sample(text, "garch_fit_failures_total", reason="constant_series") >= 1
    assert sample(text, "garch_model_compute_duration_seconds_count", operation="fit") >= 1
    assert sample(text, "garch_model_load_seconds") > 0
    assert sample(text, "garch_models_loaded") == 3
    assert sample(text, "garch_http_requests_in_flight") == 1  # this very request
    assert sample(text, "process_resident_memory_bytes") > 10_000_000
    assert sample(text, "process_cpu_seconds_total") > 0


def test_unmatched_paths_share_one_label(client: TestClient) -> None:
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    text = client.get("/metrics").text
    assert sample(text, "garch_http_requests_total", route="unmatched", method="GET", status="404", traffic="") >= 2
    assert "/no/such/path" not in text


def test_each_request_logs_one_json_line_with_its_id(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    returns = [((i * 13) % 7 - 3) / 2 for i in range(200)]
    response = client.post("/predict/custom", json={"returns": returns, "horizon": 3}, headers={"X-API-Key": "k"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == response.headers["x-request-id"]]
    assert len(access) == 1
    entry = access[0]
    assert entry["method"] == "POST" and entry["path"] == "/predict/custom" and entry["status"] == 200
    assert entry["model"] == "custom" and entry["horizon"] == 3 and entry["duration_ms"] > 0
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["timestamp"]) and entry["level"] == "info"
    assert str(returns[:5])[1:-1] not in json.dumps(lines)  # the payload is never logged


def test_secrets_never_reach_the_log(make_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = make_client(api_key=KEY)
    client.get("/predict", headers={"X-API-Key": KEY})
    client.get("/predict", headers={"X-API-Key": "wrong"})
    assert KEY not in capsys.readouterr().out
