"""`mlops-deploy` says what it will not do instead of doing something else: another environment on record, nothing
on record to test, and a monitor that watches at the interval it is given."""

import json
import sys
import time
from pathlib import Path

import pytest

from provisioning import cli
from provisioning.cli import STATE_FILE, main

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "azure_config.yaml")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory to run in, without the sweep of dead sessions' leftovers that `deploy` and `test` start
    with: it is not under test here, and it would race test_leftovers.py's orphans on another xdist worker."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "sweep_dead_sessions", lambda: None)
    return tmp_path


def record_a_stopped_process_deployment(directory: Path) -> dict[str, object]:
    """A process deployment on record whose server is gone (tearing it down has nothing to stop)."""
    state = {
        "environment": "process",
        "port": 9,
        "env": {},
        "python": sys.executable,
        "startup_timeout_s": 5,
        "log_path": str(directory / "service.log"),
        "group": None,
        "session": "unit",
        "owner": None,
    }
    (directory / STATE_FILE).parent.mkdir()
    (directory / STATE_FILE).write_text(json.dumps(state))
    return state


def test_deploy_refuses_another_environment_than_the_recorded_one(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = record_a_stopped_process_deployment(in_tmp)
    assert main(["--action", "deploy", "--env", "local", "--config", CONFIG]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("mlops-deploy: a process deployment is on record, not local: --force replaces it")
    assert json.loads((in_tmp / STATE_FILE).read_text()) == state, "a refusal must leave the record alone"


def test_deploy_with_force_tears_the_recorded_one_down_first(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record_a_stopped_process_deployment(in_tmp)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)  # so the prod deploy stops before reaching Azure
    assert main(["--action", "deploy", "--env", "prod", "--force", "--config", CONFIG]) == 1
    captured = capsys.readouterr()
    assert captured.out == "replaced the process deployment: removed nothing was left\n"
    assert "AZURE_SUBSCRIPTION_ID is not set" in captured.err
    assert not (in_tmp / STATE_FILE).exists()


def test_test_with_nothing_recorded_says_so_and_deploys_nothing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--action", "test", "--config", CONFIG, "--reports-dir", str(in_tmp / "reports")]) == 1
    assert capsys.readouterr().err == (
        "mlops-deploy: nothing deployed: run --action deploy first (--action full deploys, tests, tears down)\n"
    )
    assert not (in_tmp / ".mlops-deploy").exists() and not (in_tmp / "reports").exists()


def test_monitor_checks_at_the_interval_it_is_given(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = in_tmp / "monitor.jsonl"
    started = time.monotonic()
    arguments = ["--action", "monitor", "--url", "http://127.0.0.1:9", "--interval", "0.05", "--monitor-log", str(log)]
    assert main([*arguments, "--config", CONFIG]) == 1  # port 9 refuses: 3 failed checks in a row
    elapsed = time.monotonic() - started
    checks = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(checks) == 3 and elapsed < 10, f"3 checks at 0.05 s took {elapsed:.1f} s (the 30 s default?)"
    assert "3 failed checks in a row" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_monitor_refuses_an_interval_that_is_not_a_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--action", "monitor", "--interval", value])
    assert refused.value.code == 2 and f"argument --interval: invalid positive value: '{value}'" in (
        capsys.readouterr().err
    )
