"""`mlops-deploy` stands a deployment up, reports it, tears it down, and fails in one line."""

import json
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
    prod = cli("--action", "deploy", "--env", "prod", cwd=tmp_path)
    assert prod.returncode == 1 and "prod" in prod.stderr and prod.stderr.strip().count("\n") == 0
