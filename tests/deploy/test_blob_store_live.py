"""Publish to Blob storage (Azurite), deploy on it, verify, publish again, restart, verify the switch.

A deployment of its own, on a process: Azurite listens on the host's loopback, which a container on Docker's
bridge network cannot reach, so the local (image) deployment is verified on a mounted directory store instead.
"""

import httpx
import pytest

from harness.pytest_plugin.azurite import Azurite
from harness.pytest_plugin.deployment import HarnessOptions
from provisioning.config import ProjectConfig
from provisioning.environments.process import ProcessDeployment
from provisioning.models.publishing import build_artifact, publish_models
from provisioning.models.training_data import load_training_data
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import open_store

SWITCHED = "egarch_1_1"


@pytest.mark.deploy
def test_publish_to_blob_deploy_verify_and_switch_on_restart(
    azurite: Azurite, project_config: ProjectConfig, harness_options: HarnessOptions
) -> None:
    if harness_options.environment != "process" or harness_options.api_url:
        pytest.skip("runs its own process deployment on Azurite; checked in the --env process session")
    location = azurite.new_container_url("garch-models-process")
    store = open_store(location, connection_string=azurite.connection_string, create=True)
    series = load_training_data(project_config.models.data)
    outcomes = publish_models(BUILTIN_MODELS, store, series, project_config.models.evaluation)
    assert not [outcome.reason() for outcome in outcomes if outcome.refused]
    env = {
        "MODEL_STORE": location,
        "MODEL_STORE_CONNECTION_STRING": azurite.connection_string,
        "WEB_CONCURRENCY": "2",
        "API_KEY": "",  # open, whatever this shell exports
    }
    with ProcessDeployment(env=env, startup_timeout_s=project_config.deployment.startup_timeout_s) as deployment:
        assert served(deployment.url) == {name: store.current(name).version for name in BUILTIN_MODELS}
        earlier = series.head(series.data.n_obs - 1)
        spec = BUILTIN_MODELS[SWITCHED]
        new = store.publish(build_artifact(SWITCHED, spec, earlier, project_config.models.evaluation))
        deployment.restart()
        assert served(deployment.url)[SWITCHED] == new.version
        origin = httpx.get(f"{deployment.url}/predict", params={"model": SWITCHED}, timeout=30).json()["origin"]
        assert origin == earlier.data.last_date


def served(url: str) -> dict[str, str]:
    health = httpx.get(f"{url}/health", timeout=30).json()
    assert health["status"] == "healthy", health
    return {m["name"]: m["version"] for m in health["models"]}
