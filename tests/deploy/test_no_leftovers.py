"""Teardown leaves nothing behind, after a normal run, Ctrl-C and SIGTERM; after SIGKILL the session's reaper, or
failing that the next session, removes what it left. Checked through the OS and Docker.

Every inner session first sweeps what dead sessions left: the tests that check who removes a killed session's
leftovers hold `sweeping_alone`, the others sweep beside each other (`sweeps_dead_sessions`)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.nested_sessions import nested_session_env
from harness.pytest_plugin.deployment import REAPER_PID_FILE, HarnessOptions
from harness.terminal import start_as_from_a_terminal
from provisioning.environments.ownership import process_start_time
from provisioning.processes import group_members
from provisioning.waiting import wait_until

PROBE = Path(__file__).parent / "session_probe" / "probe_session.py"
RUN_TIMEOUT_S = 600
REAPER_WITHIN_S = 60.0


def leftovers(state: dict[str, Any]) -> list[str]:
    """What of a recorded deployment still exists, seen by the OS (processes) or the Docker API (containers)."""
    if state["environment"] == "process":
        return [f"pid {pid}" for pid in group_members(state["group"])]
    import docker

    client = docker.from_env()
    found = client.containers.list(all=True, ignore_removed=True, filters={"id": state["container_id"]})
    labelled = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"io.garch-mlops.session={state['session']}"}
    )
    return [f"container {c.short_id} ({c.status})" for c in {*found, *labelled}]


def probe_run(
    environment: str, tmp_path: Path, *, block: bool, extra: tuple[str, ...] = (), **probe_env: str
) -> tuple[subprocess.Popen[str], Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    state_file = tmp_path / "state.json"
    env = nested_session_env(PROBE_STATE_FILE=str(state_file), PROBE_BLOCK="1" if block else "", **probe_env)
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
        "--reports-dir",
        str(tmp_path / "reports"),
        "-o",
        "addopts=-p no:locust --import-mode=importlib",
        *extra,
    ]
    process = start_as_from_a_terminal(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return process, state_file


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
    def recorded() -> bool:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"inner pytest ended before recording its deployment:\n{output}")
        return path.exists()

    wait_until(recorded, what="the inner session's deployment record", where=str(path), timeout_s=timeout_s)
    return json.loads(path.read_text())


def kill(process: subprocess.Popen[str]) -> str:
    """SIGKILL: no handler, no teardown, no finally runs in it."""
    process.kill()
    output, _ = process.communicate(timeout=60)
    return output


@pytest.fixture
def environment(harness_options: HarnessOptions) -> str:
    if harness_options.api_url or harness_options.environment == "prod":
        pytest.skip("checks the local environments' own teardown")
    return harness_options.environment


@pytest.mark.deploy
@pytest.mark.usefixtures("sweeps_dead_sessions")
def test_a_finished_run_leaves_nothing(environment: str, tmp_path: Path) -> None:
    process, state_file = probe_run(environment, tmp_path, block=False)
    output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, output
    state = json.loads(state_file.read_text())
    assert leftovers(state) == [], output


@pytest.mark.deploy
@pytest.mark.usefixtures("sweeps_dead_sessions")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_or_terminated_run_leaves_nothing(environment: str, signum: int, tmp_path: Path) -> None:
    process, state_file = probe_run(environment, tmp_path, block=True)
    try:
        state = wait_for_file(state_file, process, RUN_TIMEOUT_S)
        assert leftovers(state), "the deployment should be up while the run is"
        process.send_signal(signum)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, output  # pytest's exit code for an interrupted run
    assert "garch-mlops: tore down" in output
    assert leftovers(state) == [], output


@pytest.mark.deploy
@pytest.mark.usefixtures("sweeping_alone")
def test_what_a_killed_run_left_is_removed_by_its_reaper(environment: str, tmp_path: Path) -> None:
    process, state_file = probe_run(environment, tmp_path, block=True)
    try:
        state = wait_for_file(state_file, process, RUN_TIMEOUT_S)
        assert leftovers(state), "the deployment should be up while the run is"
    finally:
        output = kill(process)

    reaper_log = tmp_path / "inner" / "reaper.log"

    def reaped() -> bool:
        return leftovers(state) == [] and f"session {state['session']}" in reaper_log.read_text()

    wait_until(
        reaped,
        what="the reaper's cleanup",
        where=f"session {state['session']}",
        timeout_s=REAPER_WITHIN_S,
        last_seen=lambda: f"left: {leftovers(state)}; reaper log: {reaper_log.read_text()!r}",
    )
    assert "reaper: removed" in reaper_log.read_text(), output


@pytest.mark.deploy
@pytest.mark.usefixtures("sweeping_alone")
def test_what_a_killed_run_and_its_reaper_left_is_removed_by_the_next_session(environment: str, tmp_path: Path) -> None:
    """As if the whole machine's processes of the run were killed at once: only the next session is left to clean."""
    first = tmp_path / "first"
    process, state_file = probe_run(environment, first, block=True)
    try:
        state = wait_for_file(state_file, process, RUN_TIMEOUT_S)
        reaper = int((first / "inner" / REAPER_PID_FILE).read_text())
        os.kill(reaper, signal.SIGKILL)
    finally:
        kill(process)
    wait_until(lambda: process_start_time(reaper) is None, what="the reaper's end", where=f"pid {reaper}", timeout_s=30)
    assert leftovers(state), "nothing was left to prove the next session's sweep on"

    following, _ = probe_run(environment, tmp_path / "second", block=False)
    output, _ = following.communicate(timeout=RUN_TIMEOUT_S)

    assert following.returncode == 0, output
    assert "garch-mlops: removed what a dead session left" in output and state["session"] in output, output
    assert leftovers(state) == [], output


@pytest.mark.deploy
@pytest.mark.usefixtures("sweeps_dead_sessions")
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
