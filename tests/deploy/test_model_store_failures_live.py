"""A deployment told to serve from a store it cannot use never reports healthy, and the wait says why."""

from pathlib import Path

import pytest

from harness.pytest_plugin.deployment import HarnessOptions
from provisioning.environments.process import ProcessDeployment
from provisioning.errors import DeploymentTimeout

NOT_HEALTHY_WITHIN_S = 15.0


@pytest.mark.deploy
def test_a_store_that_is_not_there_keeps_the_deployment_unhealthy_with_the_reason(
    tmp_path: Path, harness_options: HarnessOptions
) -> None:
    if harness_options.environment != "process" or harness_options.api_url:
        pytest.skip("starts a process deployment of its own; checked in the --env process session")
    missing = tmp_path / "never-published"
    deployment = ProcessDeployment(env={"MODEL_STORE": str(missing)}, startup_timeout_s=NOT_HEALTHY_WITHIN_S)
    with pytest.raises(DeploymentTimeout) as waited, deployment:
        pass
    assert '503 {"status":"unhealthy"' in waited.value.last_seen
    assert '"detail":"model loading failed: StoreUnreachable: model store ' in waited.value.last_seen
    assert f"StoreUnreachable: model store {missing}: no such directory" in deployment.logs()
