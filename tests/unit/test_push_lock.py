"""Pushes into one registry from processes of one machine go one at a time; pushes into another registry don't wait,
and a push kept waiting past its bound stops with one line that names the registry and the lock."""

import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioning.environments.image_push import one_push_at_a_time, push_lock_path
from provisioning.errors import DeploymentError
from provisioning.waiting import wait_until

HOLDER_DEADLINE_S = 30.0  # for the other process to start and take the lock
REFUSED_AFTER_S = 0.3  # the bound a push that must wait is given here


@pytest.fixture
def server() -> str:
    """A registry server no real push on this machine uses, so its lock is this test's alone."""
    return f"registry-{uuid.uuid4().hex[:8]}.test:5000"


@pytest.fixture
def pushing_elsewhere(server: str, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process in the middle of a push into `server`: it holds the lock until its stdin closes."""
    holding = tmp_path / "holding"
    code = textwrap.dedent(f"""
        import pathlib, sys
        from provisioning.environments.image_push import one_push_at_a_time
        with one_push_at_a_time({server!r}):
            pathlib.Path({str(holding)!r}).write_text("held")
            sys.stdin.read()
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, text=True)
    try:
        wait_until(holding.exists, what="the lock held", where="the other process", timeout_s=HOLDER_DEADLINE_S)
        yield process
    finally:
        if process.stdin:
            process.stdin.close()
        process.wait(timeout=HOLDER_DEADLINE_S)


def test_a_push_waits_for_another_process_pushing_into_the_same_registry(
    server: str, pushing_elsewhere: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(DeploymentError) as refused, one_push_at_a_time(server, timeout_s=REFUSED_AFTER_S):
        pytest.fail("got the lock while another process held it")
    assert time.monotonic() - started >= REFUSED_AFTER_S
    message = str(refused.value)
    assert server in message and str(push_lock_path(server)) in message
    assert "\n" not in message

    assert pushing_elsewhere.stdin is not None
    pushing_elsewhere.stdin.close()  # the other push ends
    with one_push_at_a_time(server, timeout_s=HOLDER_DEADLINE_S):
        assert pushing_elsewhere.wait(timeout=HOLDER_DEADLINE_S) == 0


def test_a_push_into_another_registry_does_not_wait(server: str, pushing_elsewhere: subprocess.Popen[str]) -> None:
    other = server.replace("registry-", "other-")
    assert push_lock_path(other) != push_lock_path(server)
    with one_push_at_a_time(other, timeout_s=REFUSED_AFTER_S):
        assert pushing_elsewhere.poll() is None, "the other push was still under way"


def test_the_lock_is_named_by_the_server_whatever_its_case(server: str) -> None:
    assert push_lock_path(server.upper()) == push_lock_path(server)  # registry host names are case-insensitive
