"""Our prod provisioning (AciDeployment, the sweeper, the CLI) driven through every ARM fault the emulator injects.

The emulator's own tests show it answers faults as ARM does; these show what our code makes of them: throttling and
transient 5xx are retried until the deployment comes up, terminal errors stop it with ARM's code and message, a
failed operation or a crashing container is reported with what a person needs, a bad image is rolled back, and
every failure leaves nothing behind once the deployment is torn down. Needs a Docker engine and docker-registry.
"""

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.arm_emulator.client import ArmEmulator
from harness.stand_ins.registry import LocalRegistry
from provisioning import cli
from provisioning.config import ProjectConfig
from provisioning.environments.azure.aci_deployment import AciDeployment
from provisioning.environments.azure.arm_errors import ArmError
from provisioning.environments.azure.clients import RETRY_TOTAL
from provisioning.environments.azure.container_group_spec import IMAGE_TAG, PREVIOUS_IMAGE_TAG
from provisioning.environments.azure.names import DELETE_AFTER_TAG, PROJECT_TAG
from provisioning.environments.azure.progress import Progress
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.errors import DeploymentError

from .conftest import LOCATION, SERVICE_IMAGE, ArmClients

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "fault-rehearsal-key"
CONTAINER_GROUPS = "Microsoft.ContainerInstance/containerGroups"
REGISTRIES = "Microsoft.ContainerRegistry/registries"
WORKSPACES = "Microsoft.OperationalInsights/workspaces"
RESOURCE_GROUPS = "Microsoft.Resources/resourceGroups"
STARTUP_TIMEOUT_S = 90.0
"""A crash must be reported well within this: waiting it out would mean the crash went unnoticed."""


@pytest.fixture
def azure_env(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The AZURE_* variables pointing at the emulator, as the prod deployment fixture sets them."""
    for name, value in arm_emulator.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AZURE_POLLING_INTERVAL_S", "0")
    yield


@pytest.fixture(scope="module")
def project(project_config: ProjectConfig) -> ProjectConfig:
    """The project's configuration with deadlines short enough that a missed failure fails the test quickly."""
    return project_config.model_copy(
        update={
            "azure": project_config.azure.model_copy(update={"operation_timeout_s": 180.0}),
            "deployment": project_config.deployment.model_copy(update={"startup_timeout_s": STARTUP_TIMEOUT_S}),
        }
    )


@pytest.fixture
def make_deployment(
    azure_env: None, project: ProjectConfig, local_service_image: str
) -> Iterator[Callable[[], AciDeployment]]:
    """A factory of AciDeployments on the emulator (progress captured); any a test leaves up is torn down."""
    made: list[AciDeployment] = []

    def make() -> AciDeployment:
        deployment = AciDeployment(
            project,
            AzureEnvironment(),
            env={"WEB_CONCURRENCY": "1"},
            secure_env={"API_KEY": API_KEY},
            local_image=local_service_image,
            progress=Progress(io.StringIO()),
        )
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.teardown()


def progress_of(deployment: AciDeployment) -> str:
    return deployment._progress._stream.getvalue()  # type: ignore[attr-defined]


def calls(emulator: ArmEmulator, method: str, resource_type: str) -> list[dict[str, Any]]:
    """The logged requests (polls excluded) of one method on one resource type, in order."""
    return [
        entry
        for entry in emulator.requests()
        if entry["kind"] != "poll"
        and entry["method"] == method
        and (entry["resource_type"] or "").lower() == resource_type.lower()
    ]


def health(url: str) -> int | None:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code
    except httpx.HTTPError:
        return None


def group_tags(clients: ArmClients, deployment: AciDeployment) -> dict[str, str]:
    group = clients.containers.container_groups.get(deployment.resource_group, deployment.names.container_group)
    return dict(group.tags or {})


# -- retried faults ---------------------------------------------------------------------------------------------


def test_throttling_and_a_transient_server_error_are_retried_until_the_deployment_is_up(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    emulator.inject("throttle", method="PUT", type=RESOURCE_GROUPS, times=2, retry_after=1)
    emulator.inject("server_error", method="PUT", type=CONTAINER_GROUPS, times=1)
    deployment = make_deployment()

    deployment.start()

    assert health(deployment.url) == 200
    group_puts = [entry["status"] for entry in calls(emulator, "PUT", RESOURCE_GROUPS)]
    assert group_puts == [429, 429, 201]
    throttled, retried = calls(emulator, "PUT", RESOURCE_GROUPS)[1:3]
    assert retried["time"] - throttled["time"] >= 0.9, "the retry did not wait for Retry-After: 1"
    assert [entry["status"] for entry in calls(emulator, "PUT", CONTAINER_GROUPS)] == [500, 201]
    assert [fault["hits"] for fault in emulator.faults()] == [2, 1]

    deployment.teardown()
    emulator.assert_holds_nothing()


def test_throttling_that_does_not_end_is_retried_a_bounded_number_of_times(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    emulator.inject("throttle", method="PUT", type=RESOURCE_GROUPS, times=20, retry_after=1)
    deployment = make_deployment()

    with pytest.raises(ArmError) as stopped, deployment:
        pass

    assert (stopped.value.status, stopped.value.code) == (429, "SubscriptionRequestsThrottled")
    assert f"creating resource group {deployment.resource_group} failed" in str(stopped.value)
    assert len(calls(emulator, "PUT", RESOURCE_GROUPS)) == 1 + RETRY_TOTAL
    emulator.assert_holds_nothing()


# -- terminal faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "resource_type", "params", "status", "code"),
    [
        ("conflict", REGISTRIES, {"message": "Another operation is in progress on the registry."}, 409, "Conflict"),
        (
            "error",
            WORKSPACES,
            {"status": 400, "code": "InvalidParameter", "message": "The workspace SKU is not allowed here."},
            400,
            "InvalidParameter",
        ),
        ("quota", CONTAINER_GROUPS, {}, 400, "ContainerGroupQuotaReached"),
    ],
    ids=["conflict", "bad-request", "quota"],
)
def test_a_terminal_arm_error_stops_provisioning_with_its_code_and_tears_down(
    clients: ArmClients,
    make_deployment: Callable[[], AciDeployment],
    fault: str,
    resource_type: str,
    params: dict[str, Any],
    status: int,
    code: str,
) -> None:
    emulator = clients.emulator
    rule = emulator.inject(fault, method="PUT", type=resource_type, **params)
    deployment = make_deployment()

    with pytest.raises(ArmError) as stopped, deployment:
        pass

    error = stopped.value
    assert (error.status, error.code) == (status, code)
    expected_message = params.get("message") or "container group quota 'ContainerGroups' exceeded"
    assert expected_message in error.arm_message and expected_message in str(error)
    assert [entry["status"] for entry in calls(emulator, "PUT", resource_type)] == [status], (
        "a terminal error was retried"
    )
    assert emulator.faults()[0]["id"] == rule["id"] and emulator.faults()[0]["hits"] == 1
    assert calls(emulator, "DELETE", RESOURCE_GROUPS)[-1]["status"] == 202
    emulator.assert_holds_nothing()


def test_a_failed_long_running_operation_is_reported_and_leaves_nothing(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    emulator.inject(
        "lro_failed",
        method="PUT",
        type=CONTAINER_GROUPS,
        code="ContainerGroupDeploymentFailed",
        message="The container group could not be scheduled.",
    )
    deployment = make_deployment()

    with pytest.raises(ArmError) as failed, deployment:
        pass

    assert failed.value.code == "ContainerGroupDeploymentFailed"
    assert f"container group {deployment.names.container_group} failed" in str(failed.value)
    assert "could not be scheduled" in str(failed.value)
    emulator.assert_holds_nothing()


def test_a_container_that_crashes_on_start_is_reported_with_exit_code_events_and_logs(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    emulator.inject("crash_on_start", method="PUT", type=CONTAINER_GROUPS, exit_code=3)
    deployment = make_deployment()
    started = time.monotonic()

    with pytest.raises(DeploymentError) as crashed, deployment:
        pass

    message = str(crashed.value)
    assert "exit 3" in message
    assert "events: " in message and "Started container" in message
    assert "injected crash on start" in message  # the container's last log line
    assert time.monotonic() - started < STARTUP_TIMEOUT_S, "the crash was only noticed when the health wait ran out"
    emulator.assert_holds_nothing()


# -- rollback ---------------------------------------------------------------------------------------------------


def test_rollback_redeploys_the_previous_image_and_a_failed_image_is_rolled_back(
    clients: ArmClients,
    make_deployment: Callable[[], AciDeployment],
    local_registry: LocalRegistry,
    project: ProjectConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator = clients.emulator
    deployment = make_deployment()
    deployment.start()
    first = deployment.version
    candidate = local_registry.push(SERVICE_IMAGE, repository=project.deployment.image_name, tag="candidate")

    deployment.deploy_image(candidate)
    assert (deployment.version, group_tags(clients, deployment)[PREVIOUS_IMAGE_TAG]) == (candidate, first)

    # `--action rollback` on the recorded deployment, as an operator runs it
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("API_KEY", API_KEY)
    cli.STATE_FILE.parent.mkdir()
    cli.STATE_FILE.write_text(json.dumps(deployment.state()))
    assert cli.main(["--action", "rollback", "--env", "prod", "--config", str(ROOT / "azure_config.yaml")]) == 0
    assert f"rolled back to {first}" in capsys.readouterr().out
    assert json.loads(cli.STATE_FILE.read_text())["image"] == first
    tags = group_tags(clients, deployment)
    assert (tags[IMAGE_TAG], tags[PREVIOUS_IMAGE_TAG]) == (first, candidate)
    assert health(deployment.url) == 200

    emulator.inject("crash_on_start", method="PUT", type=CONTAINER_GROUPS, exit_code=4)
    with pytest.raises(DeploymentError) as rolled_back:
        deployment.deploy_image(candidate)

    assert f"{candidate} failed verification" in str(rolled_back.value)
    assert f"rolled back to {first}" in str(rolled_back.value) and "exit 4" in str(rolled_back.value)
    assert group_tags(clients, deployment)[IMAGE_TAG] == first and deployment.version == first
    assert health(deployment.url) == 200
    assert httpx.get(f"{deployment.url}/models/list", timeout=10).status_code == 401, "the API key was lost"
    assert f"[rollback] {candidate} failed verification; redeploying {first}" in progress_of(deployment)

    assert cli.main(["--action", "teardown", "--env", "prod", "--config", str(ROOT / "azure_config.yaml")]) == 0
    assert not cli.STATE_FILE.exists()
    emulator.assert_holds_nothing()


def test_rollback_without_a_previous_image_says_so(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    deployment = make_deployment()
    deployment.start()

    with pytest.raises(DeploymentError, match="has no previous image to roll back to"):
        deployment.rollback()
    assert health(deployment.url) == 200


# -- idempotency ------------------------------------------------------------------------------------------------


def test_deploying_twice_changes_nothing_and_teardown_of_what_is_gone_succeeds(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    deployment = make_deployment()
    deployment.start()
    [container] = emulator.containers()

    deployment.start()

    assert len(calls(emulator, "PUT", CONTAINER_GROUPS)) == 1, "the unchanged container group was PUT again"
    assert [item["id"] for item in emulator.containers()] == [container["id"]]
    assert "already runs this spec; unchanged" in progress_of(deployment)
    assert health(deployment.url) == 200

    recorded = deployment.state()
    clients.resources.resource_groups.begin_delete(deployment.resource_group).result()  # gone behind our back
    assert deployment.teardown() == []
    assert deployment.teardown() == []
    assert AciDeployment.from_state(recorded, deployment._project, AzureEnvironment()).teardown() == []

    assert deployment.state()["resources"] == []
    # Only the delete behind our back: each teardown asked ARM first (the second asks nothing: it knows it is gone).
    assert [entry["status"] for entry in calls(emulator, "DELETE", RESOURCE_GROUPS)] == [202]
    assert [entry["status"] for entry in calls(emulator, "GET", RESOURCE_GROUPS)][-2:] == [404, 404]
    emulator.assert_holds_nothing()


def test_stop_and_start_again_reuse_the_group(
    clients: ArmClients, make_deployment: Callable[[], AciDeployment]
) -> None:
    emulator = clients.emulator
    deployment = make_deployment()
    deployment.start()
    url = deployment.url

    deployment.stop()
    assert health(url) is None
    deployment.start()

    assert (deployment.url, health(url)) == (url, 200)
    assert len(calls(emulator, "PUT", CONTAINER_GROUPS)) == 1
    assert [entry["action"] for entry in calls(emulator, "POST", CONTAINER_GROUPS)] == ["stop", "start"]
    assert "Application startup" in deployment.logs() or "/health" in deployment.logs()


# -- the sweeper --------------------------------------------------------------------------------------------------


def test_sweep_deletes_only_this_projects_expired_groups(
    clients: ArmClients, azure_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = clients.resources.resource_groups
    tagged = {
        "expired": {"project": PROJECT_TAG, DELETE_AFTER_TAG: "2020-01-01T00:00:00Z"},
        "fresh": {"project": PROJECT_TAG, DELETE_AFTER_TAG: "2099-01-01T00:00:00Z"},
        "foreign": {"project": "someone-else", DELETE_AFTER_TAG: "2020-01-01T00:00:00Z"},
        "undated": {"project": PROJECT_TAG},
    }
    for name, tags in tagged.items():
        groups.create_or_update(f"rg-sweep-{name}", {"location": LOCATION, "tags": tags})
    clients.log_analytics.workspaces.begin_create_or_update(
        "rg-sweep-expired", "inside", {"location": LOCATION, "properties": {"sku": {"name": "PerGB2018"}}}
    ).result()

    assert cli.main(["--action", "sweep", "--env", "prod", "--config", str(ROOT / "azure_config.yaml")]) == 0

    assert "deleted 1 expired resource group(s): rg-sweep-expired" in capsys.readouterr().out
    assert sorted(group.name for group in groups.list()) == ["rg-sweep-foreign", "rg-sweep-fresh", "rg-sweep-undated"]
    assert [item["type"] for item in clients.emulator.resources()] == [RESOURCE_GROUPS] * 3
