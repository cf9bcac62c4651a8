"""A deployment told to serve from a store it cannot use never reports healthy, and its start fails at once with why."""

from pathlib import Path

import pytest

from harness.pytest_plugin.deployment import HarnessOptions
from provisioning.environments.process import ProcessDeployment
from provisioning.errors import DeploymentTimeout

STARTUP_DEADLINE_S = 120.0  # generous: the start must end on the service's answer, never on the deadline


@pytest.mark.deploy
def test_a_store_that_is_not_there_keeps_the_deployment_unhealthy_with_the_reason(
    tmp_path: Path, harness_options: HarnessOptions
) -> None:
    if harness_options.environment != "process" or harness_options.api_url:
        pytest.skip("starts a process deployment of its own; checked in the --env process session")
    missing = tmp_path / "never-published"
    deployment = ProcessDeployment(env={"MODEL_STORE": str(missing)}, startup_timeout_s=STARTUP_DEADLINE_S)
    with pytest.raises(DeploymentTimeout) as waited, deployment:
        pass
    assert waited.value.hint.startswith("the service will not become healthy: model loading failed: StoreUnreachable")
    assert waited.value.waited_s < STARTUP_DEADLINE_S
    assert '503 {"status":"unhealthy"' in waited.value.last_seen
    assert '"detail":"model loading failed: StoreUnreachable: model store ' in waited.value.last_seen
    assert f"StoreUnreachable: model store {missing}: no such directory" in deployment.logs()
