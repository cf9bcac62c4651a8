"""Start-up: settings are validated with one clear line, and a failed model load keeps the service unready."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.prometheus_text import sample
from provisioning.environments.process import ProcessDeployment
from provisioning.processes import group_members
from provisioning.waiting import wait_until
from service.config import Settings
from service.garch.catalogue import BUILTIN_MODELS
from service.main import create_app
from service.process_tree_metrics import ProcessTreeCollector, process_tree


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PORT", "70000", "port"),
        ("WEB_CONCURRENCY", "zero", "web_concurrency"),
        ("LOG_LEVEL", "loud", "log_level"),
        ("MAX_REQUEST_HEAD_BYTES", "100", "max_request_head_bytes"),
        ("REQUEST_BODY_TIMEOUT_S", "0", "request_body_timeout_s"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line(variable: str, value: str, named: str) -> None:
    env = {**os.environ, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "service"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"service: invalid setting {named}:"), result.stderr


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("API_KEY", "")
    settings = Settings()
    assert (settings.port, settings.log_level, settings.api_key) == (9100, "warning", None)
    assert settings.web_concurrency == (os.cpu_count() or 1)


def test_failed_model_load_keeps_health_503_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_data() -> None:
        raise OSError("training data unreadable")

    monkeypatch.setattr("service.garch.prefitted.load_sp500_returns", broken_data)
    with TestClient(create_app(Settings())) as client:
        wait_until(
            lambda: "failed" in (client.get("/health").json()["detail"] or ""),
            what="model loading to fail",
            where="/health",
            timeout_s=30,
            interval_s=0.02,
        )
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["detail"] == "model loading failed: OSError: training data unreadable"
        assert client.get("/predict").status_code == 503


def test_process_tree_metrics_sum_over_children() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; b = bytearray(64_000_000); sys.stdin.read()"],
        stdin=subprocess.PIPE,
    )
    try:
        wait_until(lambda: child.pid in process_tree(os.getpid()), what="the child in the tree", timeout_s=30)

        def rss(root: int) -> float:
            families = {f.name: f for f in ProcessTreeCollector(root).collect()}
            return families["process_resident_memory_bytes"].samples[0].value

        def child_holds_its_buffer() -> bool:
            return rss(child.pid) > 60_000_000

        wait_until(child_holds_its_buffer, what="the child's 64 MB", where=f"pid {child.pid}", timeout_s=30)
        assert rss(os.getpid()) >= rss(child.pid) + 10_000_000  # the tree counts this process and the child
        families = {f.name for f in ProcessTreeCollector(os.getpid()).collect()}
        assert {"process_cpu_seconds", "process_start_time_seconds", "process_open_fds"} <= families
    finally:
        child.communicate(b"", timeout=30)


def test_with_several_workers_every_model_counts_as_loaded() -> None:
    """`garch_models_loaded` is the minimum over live processes (livemin): a process that wrote the gauge without
    serving (the supervisor, say, through an import) would hold it at 0 and page everyone with ApiUnhealthy."""
    deployment = ProcessDeployment(env={"WEB_CONCURRENCY": "2", "API_KEY": ""})
    deployment.start()

    def loaded() -> float:  # /health answers once one worker is ready; the other may still be loading
        return sample(httpx.get(f"{deployment.url}/metrics", timeout=10).text, "garch_models_loaded")

    try:
        wait_until(lambda: loaded() == len(BUILTIN_MODELS), what="every model counted as loaded",
                   where=deployment.url, timeout_s=60, interval_s=0.2)  # fmt: skip
        # The server never draws: arch, which imports matplotlib wherever it is installed, goes without it there.
        assert importlib.util.find_spec("matplotlib") is not None, "installed here, or this proves nothing"
        members = group_members(deployment.group or 0)
        assert len(members) >= 3, members  # the supervisor and two workers (and multiprocessing's tracker)
        assert not [pid for pid in members if "/matplotlib/" in Path(f"/proc/{pid}/maps").read_text()]
    finally:
        deployment.teardown()
