"""Bodies read by pydantic-core's JSON parser come out as the standard library reads them, errors included."""

import asyncio
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.api.json_body import FastJsonRequest

DOCUMENTS = [
    b'{"returns": [0.1, -2.5e-3, 1E2, 4.9e-324, -0.0], "horizon": 5.0}',
    b"[NaN, Infinity, -Infinity, 1e400, -1e400]",
    b"[123456789012345678901234567890, -0]",
    b'{"a": 1, "a": 2}',
    b'["\\ud800 lone surrogate", "\\u0000"]',
]
BROKEN = [b"[1,]", b"[01]", b"[1] x", b"\xff", b"", b"{"]


def read(body: bytes) -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = FastJsonRequest({"type": "http", "method": "POST", "headers": []}, receive)
    return asyncio.run(request.json())


@pytest.mark.parametrize("body", DOCUMENTS)
def test_values_are_the_standard_library_s(body: bytes) -> None:
    assert repr(read(body)) == repr(json.loads(body))


@pytest.mark.parametrize("body", BROKEN)
def test_errors_are_the_standard_library_s(body: bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(body)
    with pytest.raises(type(expected.value)):
        read(body)


@given(st.lists(st.floats(allow_nan=False), min_size=1, max_size=50), st.sampled_from(["r", ".17e", ".6f", ".25g"]))
def test_floats_come_out_to_the_bit(values: list[float], style: str) -> None:
    """A forecast depends on every bit of every return, so each float must parse exactly as `json.loads` parses it."""
    body = ("[" + ", ".join(_written(value, style) for value in values) + "]").encode()
    assert [(type(v), float(v).hex()) for v in read(body)] == [(type(v), float(v).hex()) for v in json.loads(body)]


def _written(value: float, style: str) -> str:
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value) if style == "r" else format(value, style)
