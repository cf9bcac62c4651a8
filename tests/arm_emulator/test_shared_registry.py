"""One registry for the prod rehearsal's sessions: the command it serves gets its address and exit status through,
the sessions push there and leave it running, and it is gone when the command ends, a SIGTERM reaching the command
while the registry still answers."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from harness.stand_ins.registry import LocalRegistry
from harness.stand_ins.shared_registry import REGISTRY_VARIABLE, session_registry
from provisioning.waiting import wait_until

pytestmark = pytest.mark.emulator

WRAPPER = [sys.executable, "-m", "harness.stand_ins.shared_registry", "--"]


def answers(address: str) -> bool:
    try:
        return httpx.get(f"http://{address}/v2/", timeout=2, trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


def test_the_command_gets_the_registry_and_its_exit_status_goes_back_and_the_registry_goes_after(
    tmp_path: Path,
) -> None:
    seen = tmp_path / "seen"
    command = f"import os, pathlib; pathlib.Path({str(seen)!r}).write_text(os.environ[{REGISTRY_VARIABLE!r}]); exit(5)"
    result = subprocess.run([*WRAPPER, sys.executable, "-c", command], timeout=60, check=False)
    assert result.returncode == 5
    address = seen.read_text()
    assert address.startswith("127.0.0.1:")
    assert not answers(address), "the registry outlived its command"


def test_a_sigterm_reaches_the_command_while_the_registry_still_answers(tmp_path: Path) -> None:
    ready, during_teardown = tmp_path / "ready", tmp_path / "during-teardown"
    command = textwrap.dedent(f"""
        import os, pathlib, signal, urllib.request
        address = os.environ[{REGISTRY_VARIABLE!r}]
        def teardown(signum, frame):
            status = urllib.request.urlopen(f"http://{{address}}/v2/", timeout=5).status
            pathlib.Path({str(during_teardown)!r}).write_text(f"{{address}} {{status}}")
            raise SystemExit(0)
        signal.signal(signal.SIGTERM, teardown)
        pathlib.Path({str(ready)!r}).write_text("up")
        signal.alarm(60)  # a bound: SIGALRM ends it if the SIGTERM never comes
        signal.pause()  # a long-running command, woken only by its signal
    """)
    wrapper = subprocess.Popen([*WRAPPER, sys.executable, "-c", command])
    try:
        wait_until(ready.exists, what="the command's start", where="the shared registry's wrapper", timeout_s=30)
        wrapper.send_signal(signal.SIGTERM)  # to the wrapper alone, as `kill` or a job runner may send it
        assert wrapper.wait(timeout=30) == 0
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
    address, status = during_teardown.read_text().split()
    assert status == "200"
    assert not answers(address)


def test_a_session_pushes_to_the_shared_registry_and_leaves_it_running(tmp_path: Path) -> None:
    with LocalRegistry(tmp_path / "shared") as shared:
        with session_registry(tmp_path / "own", {REGISTRY_VARIABLE: shared.address}) as registry:
            assert registry.address == shared.address
        assert answers(shared.address), "a session stopped the registry it shares"
    with session_registry(tmp_path / "own", {}) as own:
        assert own.address != shared.address and answers(own.address)
    assert not answers(own.address)
