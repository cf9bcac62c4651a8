"""An unexpected exception in a route is answered 500 with the usual error body and request id, and stays inside
the app: the server keeps the caller's keep-alive connection open, so the next request on it is answered (a proxy
in front, such as Container Apps' ingress, reuses its connections exactly so)."""

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from provisioning.waiting import wait_until
from service.api.response_cache import ResponseCache
from service.config import Settings
from service.main import create_app

from .conftest import wait_until_ready


def fail_every_forecast(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: ResponseCache, key: object) -> bytes | None:
        raise RuntimeError("a bug in a release")

    monkeypatch.setattr(ResponseCache, "get", broken)


def test_the_exception_is_answered_500_with_the_request_id_and_does_not_escape_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with TestClient(create_app(Settings()), raise_server_exceptions=True) as client:  # an escape would raise here
        wait_until_ready(client)
        fail_every_forecast(monkeypatch)

        response = client.get("/predict", headers={"x-request-id": "bug-1"})

    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "internal error; the request id is in the server log",
        "fields": [],
        "request_id": "bug-1",
    }
    assert response.headers["x-request-id"] == "bug-1"


@pytest.fixture
def served_app() -> Iterator[str]:
    """The app behind a real uvicorn on a free loopback port (h11, as the image runs it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Settings()), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, what="/health 200", where=url, timeout_s=60, interval_s=0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def test_the_keep_alive_connection_survives_a_500(served_app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_every_forecast(monkeypatch)
    with httpx.Client(base_url=served_app, timeout=10) as client:
        answers = [client.get(path).status_code for path in ("/health", "/predict", "/health", "/predict", "/health")]
    assert answers == [200, 500, 200, 500, 200]
