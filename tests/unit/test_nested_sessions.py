"""The sessions and commands a test starts to watch them deploy serve one worker; the session's own deployment keeps
the configured number, and what the caller passes reaches the nested session unchanged."""

from pathlib import Path

import pytest

from harness.nested_sessions import nested_session_env
from provisioning.config import load_config
from provisioning.environments import service_env

pytestmark = pytest.mark.unit

CONFIG = Path(__file__).resolve().parents[2] / "azure_config.yaml"


def test_a_nested_deployment_is_told_one_worker_where_the_configured_deployment_has_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured = service_env(load_config(CONFIG), api_key=None, store={})["WEB_CONCURRENCY"]
    assert int(configured) > 1, "with one worker configured, this test could not tell the two apart"
    for name, value in nested_session_env({}).items():
        monkeypatch.setenv(name, value)
    assert service_env(load_config(CONFIG), api_key=None, store={})["WEB_CONCURRENCY"] == "1"


def test_the_callers_environment_and_extra_values_reach_the_nested_session() -> None:
    env = nested_session_env({"API_KEY": "k", "PATH": "/bin"}, PROBE_BLOCK="1")
    assert env["API_KEY"] == "k" and env["PATH"] == "/bin" and env["PROBE_BLOCK"] == "1"
