"""Teardown leaves nothing behind, after a normal run and after Ctrl-C: checked through the OS and Docker."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provisioning.process import group_members
from tests.fixtures.deployment import HarnessOptions

PROBE = Path(__file__).parent / "session_probe" / "probe_session.py"
RUN_TIMEOUT_S = 600


def leftovers(state: dict[str, Any]) -> list[str]:
    """What of a recorded deployment still exists, seen by the OS (processes) or the Docker API (containers)."""
    if state["environment"] == "process":
        return [f"pid {pid}" for pid in group_members(state["group"])]
    import docker

    client = docker.from_env()
    found = client.containers.list(all=True, filters={"id": state["container_id"]})
    labelled = client.containers.list(all=True, filters={"label": f"io.garch-mlops.session={state['session']}"})
    return [f"container {c.short_id} ({c.status})" for c in {*found, *labelled}]


def probe_run(
    environment: str, tmp_path: Path, *, block: bool, extra: tuple[str, ...] = (), **probe_env: str
) -> tuple[subprocess.Popen[str], Path]:
    state_file = tmp_path / "state.json"
    env = {**os.environ, "PROBE_STATE_FILE": str(state_file), "PROBE_BLOCK": "1" if block else "", **probe_env}
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(PROBE),
        "--env",
        environment,
        "-p",
        "no:cacheprovider",
        "-q",
        "--basetemp",
        str(tmp_path / "inner"),
        "-o",
        "addopts=-p no:locust --import-mode=importlib",
        *extra,
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, state_file


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"inner pytest ended before recording its deployment:\n{output}")
        assert time.monotonic() < deadline, f"no deployment state after {timeout_s}s"
        time.sleep(0.05)
    return json.loads(path.read_text())


@pytest.fixture
def environment(harness_options: HarnessOptions) -> str:
    if harness_options.api_url or harness_options.environment == "prod":
        pytest.skip("checks the local environments' own teardown")
    return harness_options.environment


@pytest.mark.deploy
def test_a_finished_run_leaves_nothing(environment: str, tmp_path: Path) -> None:
    process, state_file = probe_run(environment, tmp_path, block=False)
    output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, output
    state = json.loads(state_file.read_text())
    assert leftovers(state) == [], output


@pytest.mark.deploy
def test_an_interrupted_run_leaves_nothing(environment: str, tmp_path: Path) -> None:
    process, state_file = probe_run(environment, tmp_path, block=True)
    try:
        state = wait_for_file(state_file, process, RUN_TIMEOUT_S)
        assert leftovers(state), "the deployment should be up while the run is"
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, output  # pytest's exit code for an interrupted run
    assert "tore down" in output
    assert leftovers(state) == [], output


@pytest.mark.deploy
def test_xdist_workers_share_one_deployment_and_leave_nothing(environment: str, tmp_path: Path) -> None:
    """Two workers, one deployment: every worker is handed the same one, and (in a container) Docker sees exactly one
    container for the session while it runs and none after."""
    records = tmp_path / "records"
    records.mkdir()
    process, _ = probe_run(environment, tmp_path, block=False, extra=("-n", "2"), PROBE_RECORD_DIR=str(records))
    output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, output
    seen = [json.loads(path.read_text()) for path in sorted(records.glob("*.json"))]
    assert {record["worker"] for record in seen} == {"gw0", "gw1"}, output
    states = [record["state"] for record in seen]
    assert all(state == states[0] for state in states), f"the workers were handed different deployments: {states}"
    if environment == "local":
        containers = {tuple(record["session_containers"]) for record in seen}
        assert containers == {(states[0]["container_id"],)}, f"containers of the session while it ran: {containers}"
    assert leftovers(states[0]) == [], output
