"""A deployment told to serve from a store it cannot use never reports healthy, and its start fails at once with why:
a process, and the image in a local container (nothing restarts either, so waiting on could not help)."""

import os
import uuid
from pathlib import Path

import pytest

from harness.pytest_plugin.deployment import HarnessOptions
from provisioning.environments.base import Deployment
from provisioning.environments.image import docker_client
from provisioning.environments.local import LocalContainerDeployment
from provisioning.environments.ownership import SESSION_LABEL, Owner, Ownership
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


@pytest.mark.deploy
def test_an_empty_store_mounted_into_the_image_fails_its_start_with_the_reason(
    tmp_path: Path, harness_options: HarnessOptions, deployment: Deployment
) -> None:
    if harness_options.environment != "local" or harness_options.api_url:
        pytest.skip("starts a container of the session's image; checked in the --env local session")
    empty = tmp_path / "nothing-published"
    empty.mkdir()
    session = f"store-test-{uuid.uuid4().hex[:8]}"
    container = LocalContainerDeployment(
        image=deployment.version,  # the session's image: nothing is built again
        env={"MODEL_STORE": str(empty), "WEB_CONCURRENCY": "1"},
        ownership=Ownership(session, Owner.of(os.getpid())),
        startup_timeout_s=STARTUP_DEADLINE_S,
    )
    with pytest.raises(DeploymentTimeout) as waited, container:
        pass
    assert waited.value.hint.startswith("the service will not become healthy: model loading failed: ModelNotPublished")
    assert waited.value.waited_s < STARTUP_DEADLINE_S
    assert '"detail":"model loading failed: ModelNotPublished: ' in waited.value.last_seen
    left = docker_client().containers.list(all=True, filters={"label": f"{SESSION_LABEL}={session}"})
    assert left == [], "the failed start's container was left behind"
