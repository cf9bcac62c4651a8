"""What the deployment serves is what the store holds as current, and a new version is served after a restart.

The session publishes every served model to a directory store before it deploys (harness/pytest_plugin/model_store.py);
the process deployment reads it directly, the local one through a read-only mount at the same path.
"""

import httpx
import numpy as np

from harness.pytest_plugin.deployment import HarnessOptions
from harness.pytest_plugin.model_store import served_store
from harness.synthetic_traffic import api_key_headers
from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.models.publishing import build_artifact
from provisioning.models.training_data import load_training_data
from service.config import Settings
from service.garch.catalogue import BUILTIN_MODELS
from service.garch.fitting import forecast
from service.garch.rebuild import rebuild
from service.model_store import ModelStore, StoredArtifact

RTOL = 1e-9
HORIZON = 5
SWITCHED = "garch_1_1"


def served_versions(client: httpx.Client) -> dict[str, tuple[str, str]]:
    health = client.get("/health")
    assert health.status_code == 200, health.text
    return {m["name"]: (m["version"], m["digest"]) for m in health.json()["models"]}


def assert_serves(client: httpx.Client, name: str, stored: StoredArtifact) -> None:
    """The model's listing and its forecasts are those of the artifact, rebuilt here."""
    listed = {m["name"]: m for m in client.get("/models/list").json()["models"]}[name]
    assert (listed["version"], listed["digest"]) == (stored.version, stored.digest)
    assert listed["params"] == stored.artifact.params
    assert listed["evaluation"]["scores"]["model"]["qlike"] == stored.artifact.evaluation.scores["model"].qlike
    rebuilt, data = rebuild(stored.artifact, where="test")
    settings = Settings()
    expected = forecast(rebuilt, HORIZON, seed=settings.simulation_seed, simulations=settings.simulations)
    body = client.get("/predict", params={"model": name, "horizon": HORIZON}).json()
    assert body["origin"] == data.last_date and body["model_version"] == stored.version
    np.testing.assert_allclose(body["variance"], expected.variance, rtol=RTOL, atol=0)


def client_for(deployment: Deployment, options: HarnessOptions) -> httpx.Client:
    return httpx.Client(base_url=deployment.url, headers=api_key_headers(options.api_key), timeout=30)


def test_every_served_model_is_the_store_s_current_version(api: httpx.Client, deployment: Deployment) -> None:
    store = served_store(deployment)
    current = {name: store.current(name) for name in BUILTIN_MODELS}
    assert api.get("/health").json()["model_store"] == store.location
    assert served_versions(api) == {name: (s.version, s.digest) for name, s in current.items()}
    for name, stored in current.items():
        assert_serves(api, name, stored)


def test_a_new_version_is_served_after_a_restart(
    deployment_control: Deployment, project_config: ProjectConfig, harness_options: HarnessOptions
) -> None:
    store = served_store(deployment_control)
    before = store.current(SWITCHED)
    series = load_training_data(project_config.models.data)
    earlier = series.head(series.data.n_obs - 1)  # the model as it would have been fitted a trading day earlier
    new = store.publish(build_artifact(SWITCHED, BUILTIN_MODELS[SWITCHED], earlier, project_config.models.evaluation))
    assert new.version != before.version
    with client_for(deployment_control, harness_options) as client:
        try:
            assert served_versions(client)[SWITCHED][0] == before.version, "a running service must not switch"
            deployment_control.restart()
            assert served_versions(client)[SWITCHED] == (new.version, new.digest)
            assert_serves(client, SWITCHED, store.current(SWITCHED))
        finally:
            restore(store, deployment_control, before)
        assert served_versions(client)[SWITCHED][0] == before.version


def restore(store: ModelStore, deployment: Deployment, previous: StoredArtifact) -> None:
    """Leave the session's deployment serving what the other suites expect (the full S&P 500 fit)."""
    store.promote(SWITCHED, previous.version)
    deployment.restart()
