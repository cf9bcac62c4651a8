"""`mlops-deploy` on Container Apps as a user runs it: a release that answers 500 is refused by the rollout (exit 1,
one line naming the check, the serving revision untouched and still answering), a good one is rolled out, `rollback`
returns to the revision before it, and teardown leaves the emulator empty. Needs Docker and docker-registry.
"""

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.derived_images import forecast_bug_release, next_release
from harness.traffic_probe import REVISION_HEADER
from provisioning.environments.image import docker_client

from .aca_requests import ONE_REPLICA
from .conftest import ArmClients
from .test_cli_state import Cli, cli, cli_env, one_line, state_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.emulator

CONTAINER_APPS = {"AZURE_INGRESS_SCHEME": "http", "GARCH_AZURE__TARGET": "container_apps"}
QUICK_STEPS = {"GARCH_DEPLOYMENT__ROLLOUT__HOLD_S": "1", "GARCH_DEPLOYMENT__ROLLOUT__POLL_INTERVAL_S": "0.5"}


@pytest.fixture
def releases(local_service_image: str) -> Iterator[dict[str, str]]:
    """A release answering 500 on /predict and a good next release, built from the service image."""
    suffix = uuid.uuid4().hex[:8]
    built = {
        "broken": forecast_bug_release(local_service_image, f"garch-mlops-release:broken-{suffix}"),
        "next": next_release(local_service_image, f"garch-mlops-release:next-{suffix}", release=suffix),
    }
    yield built
    for tag in built.values():
        docker_client().images.remove(tag, force=True)


def serving_revision(url: str) -> str:
    response = httpx.get(f"{url}/health", timeout=10, trust_env=False)
    assert response.status_code == 200, response.text
    return response.headers[REVISION_HEADER]


def test_a_broken_release_is_refused_a_good_one_rolled_out_and_rollback_returns(
    cli: Cli,  # noqa: F811
    cli_env: dict[str, str],  # noqa: F811
    clients: ArmClients,
    tmp_path: Path,
    releases: dict[str, str],
) -> None:
    env = {**cli_env, **CONTAINER_APPS, **QUICK_STEPS, **ONE_REPLICA}
    deployed = cli("--action", "deploy", "--env", "prod", env=env)
    assert deployed.returncode == 0, deployed.stderr
    state = state_in(tmp_path)
    assert state is not None and state["target"] == "container_apps"
    first, url = state["revision"], state["url"]

    refused = cli("--action", "deploy", "--image", releases["broken"], env=env)

    assert refused.returncode == 1, refused.stdout
    line = one_line(refused.stderr)
    pattern = rf"rollout of \S+ rolled back, {first} serves all traffic: check 'smoke /predict"
    assert re.search(pattern + r"\?model=\S+' failed: HTTP 500", line), line
    assert (state_in(tmp_path) or {}).get("revision") == first and serving_revision(url) == first

    promoted = cli("--action", "deploy", "--image", releases["next"], env=env)

    assert promoted.returncode == 0, promoted.stderr
    second = (state_in(tmp_path) or {}).get("revision")
    assert second != first and serving_revision(url) == second
    assert re.search(rf"\[rollout\] {second} promoted: checks [\d.]+s; steps: 10% .*, 50% .*, 100% ", promoted.stderr)

    back = cli("--action", "rollback", env=env)

    assert back.returncode == 0, back.stderr
    assert f"rolled back to {first}" in back.stdout and serving_revision(url) == first
    again = cli("--action", "rollback", env=env)
    assert again.returncode == 1 and "has no previous revision to roll back to" in one_line(again.stderr)

    torn = cli("--action", "teardown", env=env)
    assert torn.returncode == 0, torn.stderr
    assert state_in(tmp_path) is None
    clients.emulator.assert_holds_nothing()
