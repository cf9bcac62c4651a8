"""Every class of bad input gets a 4xx naming the field and the reason, and the service stays healthy."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.garch.spec import MAX_RETURNS, MIN_RETURNS

GOOD = [((i * 37) % 11 - 5) / 3 for i in range(300)]


def custom(**overrides: Any) -> dict[str, Any]:
    return {"returns": GOOD, "p": 1, "q": 1, "horizon": 5, **overrides}


JSON_CASES = [
    ("too_few_returns", custom(returns=GOOD[: MIN_RETURNS - 1]), "returns", "at least 100"),
    ("too_many_returns", custom(returns=[0.5, -0.5] * (MAX_RETURNS // 2 + 1)), "returns", "at most"),
    ("empty_returns", custom(returns=[]), "returns", "at least"),
    ("string_in_returns", custom(returns=[*GOOD[:-1], "1.0"]), "returns.299", "valid number"),
    ("null_in_returns", custom(returns=[None, *GOOD[1:]]), "returns.0", "valid number"),
    ("bool_in_returns", custom(returns=[True, *GOOD[1:]]), "returns.0", "valid number"),
    ("overflowing_magnitude", custom(returns=[1e267, *GOOD[1:]]), "returns.0", "less than or equal"),
    ("p_zero", custom(p=0), "p", "greater than or equal to 1"),
    ("q_too_large", custom(q=4), "q", "less than or equal to 3"),
    ("o_negative", custom(o=-1), "o", "greater than or equal to 0"),
    ("horizon_zero", custom(horizon=0), "horizon", "greater than or equal to 1"),
    ("horizon_too_far", custom(horizon=253), "horizon", "less than or equal to 252"),
    ("bool_as_order", custom(q=False), "q", "valid integer"),
    ("fraction_as_order", custom(p=1.5), "p", "valid integer"),
    ("string_as_horizon", custom(horizon="5"), "horizon", "valid integer"),
    ("unknown_vol", custom(vol="FIGARCH"), "vol", "'GARCH' or 'EGARCH'"),
    ("unknown_dist", custom(dist="ged"), "dist", "'normal', 't' or 'skewt'"),
    ("unknown_mean", custom(mean="ar"), "mean", "'constant' or 'zero'"),
    ("extra_field", custom(lags=2), "lags", "unknown field"),
    ("missing_returns", {"p": 1, "q": 1}, "returns", "Field required"),
    ("array_body", [1, 2, 3], "body", "object"),
]


@pytest.mark.parametrize(("payload", "field", "reason"), [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_invalid_json_bodies_are_400_naming_the_field(
    client: TestClient, payload: Any, field: str, reason: str
) -> None:
    response = client.post("/predict/custom", json=payload)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert any(f["field"] == field and reason in f["reason"] for f in body["fields"]), body
    assert body["request_id"] == response.headers["x-request-id"]
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (b'{"returns": [NaN' + b", 1.0" * 120 + b"]}", "returns.0", "finite number"),
        (b'{"returns": [Infinity' + b", 1.0" * 120 + b"]}", "returns.0", "finite number"),
        (b'{"returns": [1e400' + b", 1.0" * 120 + b"]}", "returns.0", "finite number"),
        (b'{"returns": [1.0, ', "body", "not valid JSON"),
        (b"\xff\xfe not utf-8", "body", "not valid JSON"),
        (b"", "body", "JSON object body is required"),
        (b'"just a string"', "body", "object"),
    ],
    ids=["nan", "infinity", "beyond_float", "truncated", "undecodable", "empty", "string_body"],
)
def test_non_numbers_and_broken_json_are_400(client: TestClient, raw: bytes, field: str, reason: str) -> None:
    response = client.post("/predict/custom", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert any(f["field"] == field and reason in f["reason"] for f in response.json()["fields"]), response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/predict/custom", content=b'{"returns": []}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_json_with_a_charset_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/predict/custom",
        json=None,
        content=b'{"returns": [1]}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 400  # parsed and validated, not refused as a media type


def test_body_over_the_limit_is_413_whether_declared_or_streamed(make_client: Any) -> None:
    client = make_client(max_body_bytes=4096)
    big = b'{"returns": [' + b"1.0," * 2000 + b"1.0]}"
    declared = client.post("/predict/custom", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "4096" in declared.json()["message"]

    def chunks() -> Any:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = client.post("/predict/custom", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert client.get("/health").status_code == 200


def test_constant_series_is_422_with_the_reason(client: TestClient) -> None:
    response = client.post("/predict/custom", json=custom(returns=[0.25] * 200))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "unprocessable_series"
    assert body["fields"] == [{"field": "returns", "reason": body["message"]}] and "constant" in body["message"]


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ({"model": "arima"}, "model", "garch_1_1"),
        ({"horizon": "0"}, "horizon", "greater than or equal to 1"),
        ({"horizon": "253"}, "horizon", "less than or equal to 252"),
        ({"horizon": "abc"}, "horizon", "valid integer"),
        ({"horizon": "2.5"}, "horizon", "valid integer"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
    ids=[
        "unknown_model",
        "horizon_zero",
        "horizon_too_far",
        "horizon_text",
        "horizon_fraction",
        "extra_param",
    ],
)
def test_bad_predict_queries_are_400(client: TestClient, query: dict[str, str], field: str, reason: str) -> None:
    response = client.get("/predict", params=query)
    assert response.status_code == 400, response.text
    assert any(f["field"] == field and reason in f["reason"] for f in response.json()["fields"]), response.json()
