"""In-process fixtures: the ASGI app with its lifespan running, and arch's S&P 500 returns."""

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient

from provisioning.waiting import wait_until
from service.config import Settings
from service.garch.prefitted import TrainingData, load_sp500_returns
from service.main import create_app

READY_DEADLINE_S = 30.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in item.nodeid:
            item.add_marker(pytest.mark.unit)


def wait_until_ready(client: TestClient, deadline_s: float = READY_DEADLINE_S) -> None:
    """Poll /health until the models are loaded, with a deadline."""
    wait_until(
        lambda: client.get("/health").status_code == 200,
        what="/health 200",
        where="the in-process app",
        timeout_s=deadline_s,
        interval_s=0.02,
        last_seen=lambda: client.get("/health").text,
    )


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """Factory: a ready in-process client for an app built with the given settings; closed after the test."""
    opened: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        client = TestClient(create_app(Settings(**settings)), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        wait_until_ready(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _shared_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as client:
        wait_until_ready(client)
        yield client


@pytest.fixture
def client(_shared_client: TestClient) -> TestClient:
    """A ready client on an app with default settings, shared across tests because loading models takes time."""
    return _shared_client


@pytest.fixture(scope="session")
def sp500() -> TrainingData:
    return load_sp500_returns()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20181231)
