"""`python -m service --help` says what the service reads and exits; it never starts a server."""

import os
import signal
import subprocess
import sys

from provisioning.processes import free_loopback_port
from service.config import Settings


def test_help_lists_every_setting_and_exits_without_serving() -> None:
    port = free_loopback_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}  # were it to serve, loopback only
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--help"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        out, err = "", "still running after 30 s: it started a server"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0 and err == "", err
    assert out.startswith("usage: python -m service [--help]")
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name.upper()} has no description to print"
        assert f"\n  {name.upper()} (default: " in out
        assert " ".join(field.description.split()[:4]) in " ".join(out.split())
    assert "  HOST (default: 0.0.0.0)" in out and "/docs" in out
