"""`mlops-deploy` stands a deployment up, reports it, tears it down, and fails in one line; a failed or stopped
deploy leaves neither a process nor a record behind."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.nested_sessions import nested_session_env
from harness.terminal import start_as_from_a_terminal
from provisioning.processes import group_members, stop_process_group
from provisioning.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "azure_config.yaml")
STATE = Path(".mlops-deploy") / "deployment.json"

pytestmark = pytest.mark.usefixtures("sweeps_dead_sessions", "own_process_deployments")


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), *args, "--config", CONFIG],
        cwd=cwd,
        env=nested_session_env(env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.deploy
def test_deploy_twice_then_teardown_twice(tmp_path: Path) -> None:
    first = cli("--action", "deploy", "--env", "process", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    state = json.loads((tmp_path / ".mlops-deploy" / "deployment.json").read_text())
    url = f"http://127.0.0.1:{state['port']}"
    try:
        assert url in first.stdout and httpx.get(f"{url}/health").status_code == 200
        second = cli("--action", "deploy", "--env", "process", cwd=tmp_path)
        assert second.returncode == 0 and "already deployed" in second.stdout
    finally:
        down = cli("--action", "teardown", cwd=tmp_path)
    assert down.returncode == 0 and f"tore down the process deployment: removed process group {state['group']}" in (
        down.stdout
    )
    assert group_members(state["group"]) == []
    assert not (tmp_path / STATE).exists()
    again = cli("--action", "teardown", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to tear down" in again.stdout


@pytest.mark.deploy
def test_the_api_key_is_never_on_disk_and_starting_again_needs_it(tmp_path: Path) -> None:
    key = "cli-key-never-on-disk"
    without_key = {k: v for k, v in os.environ.items() if k != "API_KEY"}
    with_key = {**without_key, "API_KEY": key}
    assert cli("--action", "deploy", "--env", "process", cwd=tmp_path, env=with_key).returncode == 0
    record = tmp_path / STATE
    try:
        assert key not in record.read_text()
        assert stat.S_IMODE(record.stat().st_mode) == 0o600 and stat.S_IMODE(record.parent.stat().st_mode) == 0o700
        state = json.loads(record.read_text())
        url = f"http://127.0.0.1:{state['port']}"
        assert state["secret_variables"] == ["API_KEY"]
        assert httpx.get(f"{url}/models/list").status_code == 401
        stop_process_group(state["group"])  # the server is gone (a reboot, say); the record stays
        refused = cli("--action", "deploy", "--env", "process", cwd=tmp_path, env=without_key)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1
        assert refused.stderr.startswith("mlops-deploy: API_KEY not set: the recorded process deployment was deployed")
        again = cli("--action", "deploy", cwd=tmp_path, env=with_key)
        assert again.returncode == 0 and again.stdout.startswith("deployed (process)"), again.stderr
        assert httpx.get(f"{url}/models/list").status_code == 401
        assert httpx.get(f"{url}/models/list", headers={"X-API-Key": key}).status_code == 200
        assert key not in record.read_text()
    finally:
        down = cli("--action", "teardown", cwd=tmp_path, env=without_key)  # no secret needed to take it down
    assert down.returncode == 0 and "tore down the process deployment" in down.stdout


@pytest.mark.deploy
def test_failures_are_one_line_and_non_zero(tmp_path: Path) -> None:
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("deployment:\n  cpu: -1\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), "--action", "deploy", "--config", str(bad_config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "deployment.cpu" in result.stderr
    without_azure = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    prod = subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), "--action", "deploy", "--env", "prod", "--config", CONFIG],
        cwd=tmp_path,
        env=without_azure,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert prod.returncode == 1 and prod.stderr.strip().count("\n") == 0
    assert "AZURE_SUBSCRIPTION_ID is not set" in prod.stderr


@pytest.mark.deploy
def test_monitor_reports_each_check_and_fails_after_consecutive_failures(tmp_path: Path) -> None:
    def monitor(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "mlops_deploy.py"), "--action", "monitor", "--interval", "0.2", *extra],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("--action", "deploy", "--env", "process", cwd=tmp_path).returncode == 0
    try:
        healthy = monitor("--duration", "2", "--config", CONFIG)
    finally:
        cli("--action", "teardown", cwd=tmp_path)
    assert healthy.returncode == 0 and re.search(r"monitor: healthy for 2s \(1\d checks every 0\.2s\)", healthy.stderr)
    checks = [json.loads(line) for line in (tmp_path / "reports" / "monitor.jsonl").read_text().splitlines()]
    assert len(checks) >= 3 and all(check["status"] == 200 for check in checks)
    down = monitor("--url", "http://127.0.0.1:9", "--monitor-log", "down.jsonl", "--config", CONFIG)
    assert down.returncode == 1
    failures = [json.loads(line) for line in (tmp_path / "down.jsonl").read_text().splitlines()]
    assert len(failures) == 3  # failed_health_checks_before_alert


@pytest.mark.deploy
def test_a_deploy_that_fails_to_start_leaves_no_process_and_no_record(tmp_path: Path) -> None:
    config = tmp_path / "slow.yaml"
    config.write_text("deployment:\n  startup_timeout_s: 0.01\n")  # no service answers /health that soon
    deploy = ["--action", "deploy", "--env", "process", "--config", str(config)]
    failed = subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), *deploy],
        cwd=tmp_path,
        env=nested_session_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert failed.returncode == 1
    undone = re.search(r"the failed deploy was undone: removed process group (\d+)", failed.stderr)
    assert undone, failed.stderr
    assert group_members(int(undone.group(1))) == []
    assert "health at http://127.0.0.1:" in failed.stderr.splitlines()[-1]
    assert not (tmp_path / STATE).exists(), "a deployment that is gone is still recorded"


@pytest.mark.deploy
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_deploy_stopped_while_it_starts_undoes_itself(signum: int, tmp_path: Path) -> None:
    process = start_as_from_a_terminal(
        [sys.executable, str(ROOT / "mlops_deploy.py"), "--action", "deploy", "--env", "process", "--config", CONFIG],
        cwd=tmp_path,
        env=nested_session_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: (tmp_path / STATE).exists(), what="the deploy's record", where=str(tmp_path), timeout_s=120)
        group = json.loads((tmp_path / STATE).read_text())["group"]
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 128 + signum, stderr
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    assert stderr.strip().splitlines()[-1] == f"mlops-deploy: {word}", stderr
    assert f"the failed deploy was undone: removed process group {group}" in stderr
    assert group_members(group) == []
    assert not (tmp_path / STATE).exists()


@pytest.mark.deploy
def test_the_run_report_names_the_deployment_its_suites_ran_against(tmp_path: Path) -> None:
    """`--action full` runs a session whose own test starts an inner session (with a deployment of its own): the
    report must name the outer session's deployment, the one its suites ran against."""
    suites = "tests/deploy/test_no_leftovers.py::test_a_finished_run_leaves_nothing tests/integration/test_workflows.py"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "mlops_deploy.py"),
            "--action",
            "full",
            "--env",
            "process",
            "--config",
            CONFIG,
            "--reports-dir",
            str(tmp_path / "reports"),
            "--pytest-args",
            f"{suites} -p no:cacheprovider --basetemp {tmp_path / 'run'}",
        ],
        cwd=ROOT,
        env=nested_session_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    tore_down = re.search(r"garch-mlops: tore down the process deployment at (\S+):", result.stdout)
    reported = re.search(r"^deployment: process at (\S+) running", result.stdout, re.MULTILINE)
    assert tore_down and reported, result.stdout
    assert reported.group(1) == tore_down.group(1)
    assert "result: PASSED" in result.stdout
    assert "What it costs" in result.stdout and (tmp_path / "reports" / "cost.json").is_file()  # the estimate's summary
    assert "Benchmarks are automatically disabled" not in result.stdout + result.stderr
