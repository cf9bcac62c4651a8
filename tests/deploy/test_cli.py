"""`mlops-deploy` stands a deployment up, reports it, tears it down, and fails in one line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from provisioning.process import group_members

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "azure_config.yaml")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), *args, "--config", CONFIG],
        cwd=cwd,
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
    assert down.returncode == 0 and "tore down the process deployment" in down.stdout
    assert group_members(state["group"]) == []
    again = cli("--action", "teardown", cwd=tmp_path)
    assert again.returncode == 0 and "nothing to tear down" in again.stdout


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
    env = {**os.environ, "GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S": "0.2"}

    def monitor(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "mlops_deploy.py"), "--action", "monitor", "--config", CONFIG, *extra],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert cli("--action", "deploy", "--env", "process", cwd=tmp_path).returncode == 0
    try:
        healthy = monitor("--duration", "2")
    finally:
        cli("--action", "teardown", cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stderr
    checks = [json.loads(line) for line in (tmp_path / "reports" / "monitor.jsonl").read_text().splitlines()]
    assert len(checks) >= 3 and all(check["status"] == 200 for check in checks)
    down = monitor("--url", "http://127.0.0.1:9", "--monitor-log", "down.jsonl")
    assert down.returncode == 1
    failures = [json.loads(line) for line in (tmp_path / "down.jsonl").read_text().splitlines()]
    assert len(failures) == 3  # failed_health_checks_before_alert
