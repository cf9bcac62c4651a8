"""The load profile: what a client of the API does, in the proportions the configuration sets, and the shape of
the load over time.

Runs inside locust's own processes (never imported by pytest). run_locust (gate.py) sets the environment:
LOAD_WEIGHTS as JSON, LOAD_API_KEY, LOAD_THINK_S ("min,max" seconds between a user's requests), and LOAD_SHAPE,
LOAD_USERS, LOAD_SPAWN_RATE, LOAD_DURATION_S for the shape (shapes.py; the master alone runs it).
"""

import json
import os
import random

from locust import FastHttpUser, LoadTestShape, between, task

from harness.load.shapes import users_at
from harness.synthetic_traffic import verification_headers

WEIGHTS = json.loads(os.environ.get("LOAD_WEIGHTS", "{}"))
API_KEY = os.environ.get("LOAD_API_KEY", "")
THINK_S = tuple(float(part) for part in os.environ.get("LOAD_THINK_S", "0.05,0.2").split(","))
HEADERS = verification_headers(API_KEY)
MODELS = ("garch_1_1", "gjr_garch_1_1_1", "egarch_1_1")
_SEEDED = random.Random(7)
RETURNS = [round(_SEEDED.gauss(0, 1.2), 4) for _ in range(500)]


class ApiClient(FastHttpUser):
    """One client: mostly pre-fitted forecasts, some custom fits, an occasional health check and model list."""

    wait_time = between(THINK_S[0], THINK_S[-1])

    @task(WEIGHTS.get("health", 1))
    def health(self) -> None:
        self.client.get("/health", name="health", headers=HEADERS)

    @task(WEIGHTS.get("models_list", 1))
    def models_list(self) -> None:
        self.client.get("/models/list", name="models_list", headers=HEADERS)

    @task(WEIGHTS.get("predict", 6))
    def predict(self) -> None:
        model = random.choice(MODELS)
        horizon = random.choice((1, 5, 10, 22))
        self.client.get(f"/predict?model={model}&horizon={horizon}", name="predict", headers=HEADERS)

    @task(WEIGHTS.get("predict_custom", 2))
    def predict_custom(self) -> None:
        payload = {"returns": RETURNS, "p": 1, "q": 1, "horizon": 5}
        self.client.post(
            "/predict/custom",
            data=json.dumps(payload),
            name="predict_custom",
            headers={**HEADERS, "Content-Type": "application/json"},
        )


class ConfiguredShape(LoadTestShape):
    """The users over time that LOAD_SHAPE names, up to LOAD_USERS, for LOAD_DURATION_S seconds."""

    def tick(self) -> tuple[int, float] | None:
        users = users_at(
            os.environ.get("LOAD_SHAPE", "steady"),  # type: ignore[arg-type]
            self.get_run_time(),  # type: ignore[no-untyped-call]
            int(os.environ.get("LOAD_USERS", "10")),
            float(os.environ.get("LOAD_DURATION_S", "60")),
        )
        return None if users is None else (users, float(os.environ.get("LOAD_SPAWN_RATE", "5")))
