"""/predict serves pre-serialized bodies: the same answer every time, and never another app's answer."""

from collections.abc import Callable

from fastapi.testclient import TestClient

ClientFactory = Callable[..., TestClient]

EGARCH_5 = {"model": "egarch_1_1", "horizon": 5}  # simulated, so it depends on the app's seed


def test_a_cached_forecast_is_the_first_answer_again(make_client: ClientFactory) -> None:
    client = make_client()
    first = client.get("/predict", params=EGARCH_5)
    again = client.get("/predict", params=EGARCH_5)
    assert first.status_code == again.status_code == 200
    assert again.headers["content-type"] == "application/json"
    assert again.json() == first.json() and first.json()["method"] == "simulation"


def test_apps_with_different_seeds_do_not_share_bodies(make_client: ClientFactory) -> None:
    seeded_1, seeded_2 = make_client(simulation_seed=1), make_client(simulation_seed=2)
    assert seeded_1.get("/predict", params=EGARCH_5).json() != seeded_2.get("/predict", params=EGARCH_5).json()
