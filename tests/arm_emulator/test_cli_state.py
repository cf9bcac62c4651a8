"""`mlops-deploy` on prod, failing at every point a user meets: each failed command, its retry and a teardown
leave the ARM emulator empty, the state file records exactly what exists, and every message tells the truth.

The CLI runs as a user runs it, in a process of its own in a fresh directory, with the AZURE_* variables pointing
at the emulator; Ctrl-C and SIGTERM are sent to it while the emulator's request log shows it on a given step.
"""

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.arm_emulator.client import ArmEmulator
from harness.nested_sessions import nested_session_env
from harness.terminal import start_as_from_a_terminal
from provisioning.environments.azure.names import PROJECT_TAG, RUN_TAG
from provisioning.waiting import wait_until

from .conftest import LOCATION, ArmClients

pytestmark = pytest.mark.emulator

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "azure_config.yaml"
STATE = Path(".mlops-deploy") / "deployment.json"
COMMAND_TIMEOUT_S = 300
DELETE_DELAY_S = 10
"""A throttled DELETE makes the SDK wait this long before it retries: the window a test stops a teardown in."""
RESOURCE_GROUPS = "Microsoft.Resources/resourceGroups"
STEPS = {
    "registry": "Microsoft.ContainerRegistry/registries",
    "workspace": "Microsoft.OperationalInsights/workspaces",
    "container group": "Microsoft.ContainerInstance/containerGroups",
}

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(arm_emulator: ArmEmulator, local_service_image: str) -> dict[str, str]:
    """The environment of a user whose AZURE_* variables point at the emulator (the image is built already)."""
    return nested_session_env(**arm_emulator.environment(), AZURE_POLLING_INTERVAL_S="0")


def command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "mlops_deploy.py"), *args, "--config", str(CONFIG)]


@pytest.fixture
def cli(tmp_path: Path, cli_env: dict[str, str]) -> Cli:
    """Runs one `mlops-deploy` command to its end in the user's directory."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(*args),
            cwd=tmp_path,
            env=env or cli_env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )

    return run


def state_in(directory: Path) -> dict[str, Any] | None:
    path = directory / STATE
    return json.loads(path.read_text()) if path.exists() else None


def resource_groups(emulator: ArmEmulator) -> list[str]:
    return [item["name"] for item in emulator.resources() if item["type"] == RESOURCE_GROUPS]


def signal_when(
    emulator: ArmEmulator, process: subprocess.Popen[str], method: str, resource_type: str, signum: int
) -> None:
    """Send `signum` to the CLI once the emulator has answered its first `method` on `resource_type`."""

    def seen() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the command ended before its {method} {resource_type}: {process.communicate()}")
        return any(
            entry["method"] == method and (entry["resource_type"] or "").lower() == resource_type.lower()
            for entry in emulator.requests(kind="resource")
        )

    wait_until(seen, what=f"{method} {resource_type}", where="the ARM emulator", timeout_s=240, interval_s=0.05)
    process.send_signal(signum)


def run_and_stop(
    emulator: ArmEmulator, directory: Path, env: dict[str, str], args: tuple[str, ...], *stops: tuple[str, str, int]
) -> tuple[int, str]:
    """Run `mlops-deploy ARGS` and, for each (method, resource type, signal), send the signal once the emulator has
    answered that request; returns the exit status and stderr."""
    process = start_as_from_a_terminal(
        command(*args), cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        for method, resource_type, signum in stops:
            signal_when(emulator, process, method, resource_type, signum)
        _, stderr = process.communicate(timeout=COMMAND_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stderr


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.startswith("mlops-deploy:")]
    assert lines, f"no mlops-deploy line in {stderr!r}"
    return lines[-1]


def test_deploy_without_a_subscription_then_again_with_one_then_teardown_leaves_nothing(
    cli: Cli, cli_env: dict[str, str], clients: ArmClients, tmp_path: Path
) -> None:
    """The three steps of the leak this file exists for, as a new user takes them."""
    emulator = clients.emulator
    without_subscription = {k: v for k, v in cli_env.items() if k != "AZURE_SUBSCRIPTION_ID"}

    failed = cli("--action", "deploy", "--env", "prod", env=without_subscription)
    assert failed.returncode == 1
    assert "AZURE_SUBSCRIPTION_ID is not set" in failed.stderr and failed.stderr.strip().count("\n") == 0
    assert state_in(tmp_path) is None, "a deployment that never existed was recorded"

    deployed = cli("--action", "deploy", "--env", "prod")
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.startswith("deployed (prod): http://"), deployed.stdout
    state = state_in(tmp_path)
    assert state is not None
    group = state["names"]["resource_group"]
    assert resource_groups(emulator) == [group]
    assert f"resource group {group}" in state["resources"]
    assert f"container group {state['names']['container_group']}" in state["resources"]

    again = cli("--action", "deploy", "--env", "prod")
    assert again.returncode == 0 and again.stdout.startswith("already deployed (prod)"), again.stdout

    down = cli("--action", "teardown")
    assert down.returncode == 0, down.stderr
    assert f"removed resource group {group}" in down.stdout
    assert state_in(tmp_path) is None
    emulator.assert_holds_nothing()
    assert "nothing to tear down" in cli("--action", "teardown").stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_deploy_stopped_at_any_step_undoes_itself(
    step: str, signum: int, cli: Cli, cli_env: dict[str, str], clients: ArmClients, tmp_path: Path
) -> None:
    emulator = clients.emulator
    returncode, stderr = run_and_stop(
        emulator, tmp_path, cli_env, ("--action", "deploy", "--env", "prod"), ("PUT", STEPS[step], signum)
    )

    assert returncode == 128 + signum, stderr
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert one_line(stderr).startswith(f"mlops-deploy: {word}")
    assert re.search(r"the failed deploy was undone: removed resource group \S+ \(and everything in it\)", stderr)
    assert state_in(tmp_path) is None and "records a deployment" not in stderr
    emulator.assert_holds_nothing()
    assert "nothing to tear down" in cli("--action", "teardown").stdout


def test_an_interrupted_undo_is_recorded_and_the_next_teardown_finishes_it(
    cli: Cli, cli_env: dict[str, str], clients: ArmClients, tmp_path: Path
) -> None:
    """Ctrl-C during the deploy, and again while it removes what it made: the record stays, and is right."""
    emulator = clients.emulator
    emulator.inject("throttle", method="DELETE", type=RESOURCE_GROUPS, retry_after=DELETE_DELAY_S)  # time to Ctrl-C
    returncode, stderr = run_and_stop(
        emulator,
        tmp_path,
        cli_env,
        ("--action", "deploy", "--env", "prod"),
        ("PUT", STEPS["workspace"], signal.SIGINT),
        ("DELETE", RESOURCE_GROUPS, signal.SIGINT),
    )

    assert returncode == 130, stderr
    state = state_in(tmp_path)
    assert state is not None, "an undo that did not finish forgot what may still exist"
    assert "records a deployment: --action teardown removes it" in one_line(stderr)
    group = state["names"]["resource_group"]
    assert resource_groups(emulator) == [group]

    down = cli("--action", "teardown")

    assert down.returncode == 0, down.stderr
    assert f"removed resource group {group}" in down.stdout
    assert state_in(tmp_path) is None
    emulator.assert_holds_nothing()
    assert "nothing to tear down" in cli("--action", "teardown").stdout


def test_a_failed_start_of_the_recorded_deployment_keeps_its_record(
    cli: Cli, clients: ArmClients, tmp_path: Path
) -> None:
    emulator = clients.emulator
    assert cli("--action", "deploy", "--env", "prod").returncode == 0
    recorded = state_in(tmp_path)
    assert recorded is not None
    emulator.inject("error", method="PUT", type=STEPS["workspace"], status=400, code="InvalidWorkspaceSku")

    failed = cli("--action", "deploy", "--env", "prod")

    assert failed.returncode == 1
    line = one_line(failed.stderr)
    assert "InvalidWorkspaceSku" in line and "records a deployment: --action teardown removes it" in line
    assert state_in(tmp_path) == recorded, "the record changed although nothing did"
    down = cli("--action", "teardown")
    assert down.returncode == 0 and f"removed resource group {recorded['names']['resource_group']}" in down.stdout
    emulator.assert_holds_nothing()


def test_rollback_after_a_failed_rollback_and_teardown(cli: Cli, clients: ArmClients, tmp_path: Path) -> None:
    assert cli("--action", "deploy", "--env", "prod").returncode == 0
    recorded = state_in(tmp_path)

    for _ in range(2):
        failed = cli("--action", "rollback")
        assert failed.returncode == 1
        assert "has no previous image to roll back to" in one_line(failed.stderr)
        assert state_in(tmp_path) == recorded

    assert cli("--action", "teardown").returncode == 0
    clients.emulator.assert_holds_nothing()


def test_an_interrupted_teardown_runs_again_to_the_end(
    cli: Cli, cli_env: dict[str, str], clients: ArmClients, tmp_path: Path
) -> None:
    emulator = clients.emulator
    assert cli("--action", "deploy", "--env", "prod").returncode == 0
    recorded = state_in(tmp_path)
    emulator.inject("throttle", method="DELETE", type=RESOURCE_GROUPS, retry_after=DELETE_DELAY_S)  # time to stop it
    returncode, stderr = run_and_stop(
        emulator, tmp_path, cli_env, ("--action", "teardown"), ("DELETE", RESOURCE_GROUPS, signal.SIGTERM)
    )

    assert returncode == 143, stderr
    assert one_line(stderr).startswith("mlops-deploy: terminated") and "records a deployment" in one_line(stderr)
    assert state_in(tmp_path) == recorded

    again = cli("--action", "teardown")

    assert again.returncode == 0, again.stderr
    assert f"removed resource group {recorded['names']['resource_group']}" in again.stdout
    assert state_in(tmp_path) is None
    emulator.assert_holds_nothing()


def test_teardown_refuses_a_group_that_is_another_runs(cli: Cli, clients: ArmClients, tmp_path: Path) -> None:
    """A record naming a group that another run (or project) owns must not delete it."""
    assert cli("--action", "deploy", "--env", "prod").returncode == 0
    state = state_in(tmp_path)
    assert state is not None
    assert cli("--action", "teardown").returncode == 0
    group = state["names"]["resource_group"]
    clients.resources.resource_groups.create_or_update(
        group, {"location": LOCATION, "tags": {"project": PROJECT_TAG, RUN_TAG: "someone-elses"}}
    )
    (tmp_path / STATE).parent.mkdir(exist_ok=True)
    (tmp_path / STATE).write_text(json.dumps(state))

    refused = cli("--action", "teardown")

    assert refused.returncode == 1
    assert f"resource group {group} is not this run's" in one_line(refused.stderr)
    assert resource_groups(clients.emulator) == [group]
    assert state_in(tmp_path) == state
