"""publish -> deploy -> verify with the `mlops-deploy` command itself, on a process."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from harness.nested_sessions import nested_session_env
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import open_store

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "mlops_deploy.py"), *args, "--config", str(config)],
        cwd=cwd,
        env=nested_session_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.deploy
@pytest.mark.usefixtures("own_process_deployments")
def test_publish_then_deploy_serves_the_published_versions(tmp_path: Path) -> None:
    config = tmp_path / "azure_config.yaml"
    config.write_text(yaml.safe_dump({"models": {"evaluation": {"refit_every": 500}}}))
    published = cli("--action", "publish", "--env", "process", cwd=tmp_path, config=config)
    assert published.returncode == 0, published.stderr
    store = open_store(str(tmp_path / ".mlops-deploy" / "models" / "process"))
    versions = {name: store.current(name).version for name in BUILTIN_MODELS}
    assert all(f"| {name} |" in published.stdout and version in published.stdout for name, version in versions.items())
    deployed = cli("--action", "deploy", "--env", "process", cwd=tmp_path, config=config)
    try:
        assert deployed.returncode == 0, deployed.stderr
        assert f"models: from {store.location}" in deployed.stdout
        url = deployed.stdout.split("deployed (process): ", 1)[1].split()[0]
        health = httpx.get(f"{url}/health", timeout=30).json()
        assert health["model_store"] == store.location
        assert {m["name"]: m["version"] for m in health["models"]} == versions
    finally:
        down = cli("--action", "teardown", cwd=tmp_path, config=config)
    assert down.returncode == 0, down.stderr
