"""The load profile: what a client of the API does, in the proportions the configuration sets.

Runs inside locust's own process (never imported by pytest). Weights and the API key come from the environment
that tests/load/test_load.py sets: LOAD_WEIGHTS as JSON, LOAD_API_KEY.
"""

import json
import os
import random

from locust import FastHttpUser, between, task

WEIGHTS = json.loads(os.environ.get("LOAD_WEIGHTS", "{}"))
API_KEY = os.environ.get("LOAD_API_KEY", "")
HEADERS = {"X-API-Key": API_KEY} if API_KEY else {}
MODELS = ("garch_1_1", "gjr_garch_1_1_1", "egarch_1_1")
_SEEDED = random.Random(7)
RETURNS = [round(_SEEDED.gauss(0, 1.2), 4) for _ in range(500)]


class ApiClient(FastHttpUser):
    """One client: mostly pre-fitted forecasts, some custom fits, an occasional health check and model list."""

    wait_time = between(0.05, 0.2)

    @task(WEIGHTS.get("health", 1))
    def health(self) -> None:
        self.client.get("/health", name="health")

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
