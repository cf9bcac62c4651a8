"""Each class of bad input, sent to the live deployment: a 4xx naming the field, and the service stays healthy."""

from typing import Any

import pytest
from httpx import Client

pytestmark = pytest.mark.integration

GOOD = [((i * 37) % 11 - 5) / 3 for i in range(300)]
JSON = {"content-type": "application/json"}

CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("too_few_returns", {"json": {"returns": GOOD[:50]}}, 400, "returns"),
    ("nan", {"content": b'{"returns": [NaN' + b", 1.0" * 150 + b"]}", "headers": JSON}, 400, "returns.0"),
    ("overflow", {"json": {"returns": [1e300, *GOOD[1:]]}}, 400, "returns.0"),
    ("constant", {"json": {"returns": [0.5] * 200}}, 422, "returns"),
    ("p_zero", {"json": {"returns": GOOD, "p": 0}}, 400, "p"),
    ("horizon", {"json": {"returns": GOOD, "horizon": 1000}}, 400, "horizon"),
    ("enum", {"json": {"returns": GOOD, "dist": "cauchy"}}, 400, "dist"),
    ("bool_number", {"json": {"returns": GOOD, "q": False}}, 400, "q"),
    ("extra", {"json": {"returns": GOOD, "seed": 1}}, 400, "seed"),
    ("missing", {"json": {"p": 1}}, 400, "returns"),
    ("not_json", {"content": b"returns=1,2,3", "headers": JSON}, 400, "body"),
    ("not_object", {"json": [1.0, 2.0]}, 400, "body"),
    ("content_type", {"content": b"{}", "headers": {"content-type": "text/csv"}}, 415, "header"),
    ("too_large", {"content": b"[" + b"1.0," * 400_000 + b"1.0]", "headers": JSON}, 413, "body"),
]


@pytest.mark.parametrize(("request_kwargs", "status", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_custom_requests_get_a_clear_4xx(
    api: Client, request_kwargs: dict[str, Any], status: int, field: str
) -> None:
    response = api.post("/predict/custom", **request_kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["fields"] and body["fields"][0]["field"] == field and body["message"]
    assert api.get("/health").status_code == 200


@pytest.mark.parametrize("query", [{"model": "sabr"}, {"horizon": "-1"}, {"horizon": "x"}, {"bogus": "1"}])
def test_bad_predict_queries_get_400(api: Client, query: dict[str, str]) -> None:
    response = api.get("/predict", params=query)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
