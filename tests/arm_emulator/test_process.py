"""The emulator process: it starts on a free port, stops cleanly on SIGTERM, and stops by itself when the process
that owns it dies without a teardown (so a killed test run leaves no emulator, and no containers, behind)."""

import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from harness.arm_emulator.client import EmulatorProcess
from provisioning.waiting import wait_until

pytestmark = pytest.mark.unit


def test_sigterm_stops_the_emulator_cleanly(tmp_path: Path) -> None:
    process = EmulatorProcess(tmp_path)
    emulator = process.start()
    trusted = ssl.create_default_context(cafile=str(emulator.ca_bundle))
    assert httpx.get(f"{emulator.endpoint}/_emulator/health", verify=trusted).json()["status"] == "ok"
    process.stop()
    assert process.returncode == 0
    assert "stopped; removed 0 container(s)" in process.log_tail()


def test_the_emulator_stops_when_its_owner_dies(tmp_path: Path) -> None:
    owner = subprocess.Popen(["sleep", "60"])
    process = EmulatorProcess(tmp_path, parent_pid=owner.pid)
    try:
        process.start()
        owner.kill()
        owner.wait()
        wait_until(
            lambda: process.returncode is not None,
            what="the emulator's exit after its owner's",
            where=str(process.log_file),
            timeout_s=10,
            last_seen=process.log_tail,
        )
        assert process.returncode == 0, process.log_tail()
    finally:
        owner.kill()
        process.stop()
