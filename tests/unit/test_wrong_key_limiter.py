"""The wrong-key limit: its allowance, refill and memory bound on a fake clock, then through the app."""

from typing import Any

import pytest

from harness.prometheus_text import sample
from service.api.wrong_key_limiter import WrongKeyLimiter

KEY = "s3cret-key-value"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_may_send_the_limit_of_wrong_keys_then_waits_for_the_refill() -> None:
    clock = FakeClock()
    limiter = WrongKeyLimiter(5, 60.0, clock=clock)  # one wrong key back every 12 s
    for _ in range(5):
        assert limiter.retry_after_s("10.0.0.1") == 0
        limiter.record_wrong_key("10.0.0.1")
    assert limiter.retry_after_s("10.0.0.1") == 12
    clock.now += 11.5
    assert limiter.retry_after_s("10.0.0.1") == 1  # rounded up: never 0 while still refused
    clock.now += 0.5
    assert limiter.retry_after_s("10.0.0.1") == 0
    limiter.record_wrong_key("10.0.0.1")  # the refilled one, spent at once
    assert limiter.retry_after_s("10.0.0.1") == 12


def test_addresses_are_counted_apart() -> None:
    limiter = WrongKeyLimiter(2, 10.0, clock=FakeClock())
    limiter.record_wrong_key("10.0.0.1")
    limiter.record_wrong_key("10.0.0.1")
    assert limiter.retry_after_s("10.0.0.1") > 0
    assert limiter.retry_after_s("10.0.0.2") == 0


def test_an_address_is_forgotten_once_its_allowance_is_full_again() -> None:
    clock = FakeClock()
    limiter = WrongKeyLimiter(3, 30.0, clock=clock)
    limiter.record_wrong_key("10.0.0.1")
    clock.now += 10.0  # its one wrong key has refilled
    limiter.record_wrong_key("10.0.0.2")
    assert limiter.tracked() == 1 and limiter.retry_after_s("10.0.0.1") == 0


def test_at_most_max_addresses_are_kept_and_the_least_recent_go_first() -> None:
    clock = FakeClock()
    limiter = WrongKeyLimiter(1, 3600.0, max_addresses=100, clock=clock)
    for n in range(1000):
        limiter.record_wrong_key(f"10.0.{n // 256}.{n % 256}")
    assert limiter.tracked() == 100
    assert limiter.retry_after_s("10.0.3.231") > 0  # the last one (n = 999) is still refused
    assert limiter.retry_after_s("10.0.0.0") == 0  # the first was evicted


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60.0), (5, 0.0)])
def test_nonsense_limits_are_refused(limit: int, window_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        WrongKeyLimiter(limit, window_s)


def test_the_app_answers_429_with_retry_after_once_an_address_has_used_its_wrong_keys(make_client: Any) -> None:
    client = make_client(api_key=KEY, wrong_key_limit=3, wrong_key_window_s=30.0)
    before = client.get("/metrics").text
    assert [client.get("/predict", headers={"X-API-Key": "nope"}).status_code for _ in range(3)] == [401] * 3
    assert client.get("/predict").status_code == 401  # no key is not a guess: still 401, and not counted
    refused = client.get("/predict", headers={"X-API-Key": KEY})  # even the right key, or a right guess would pass
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    assert refused.json()["error"] == "too_many_wrong_keys" and refused.json()["fields"][0]["field"] == "X-API-Key"
    assert client.get("/health").status_code == 200
    after = client.get("/metrics").text
    for reason, moved in (("wrong", 3), ("missing", 1), ("rate_limited", 1)):
        name = "garch_auth_failures_total"
        assert sample(after, name, reason=reason) - sample(before, name, reason=reason) == moved, reason


def test_the_429_is_in_the_openapi_schema_with_its_header(make_client: Any) -> None:
    schema = make_client(api_key=KEY).get("/openapi.json").json()
    answer = schema["paths"]["/predict"]["get"]["responses"]["429"]
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
