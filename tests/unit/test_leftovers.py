"""Owners, state records and the sweep of what a dead owner left: on real processes, with no Docker engine."""

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from provisioning import cli
from provisioning.environments.leftovers import remove_leftovers
from provisioning.environments.ownership import OWNER_VARIABLE, SESSION_VARIABLE, Owner, Ownership
from provisioning.processes import group_members
from provisioning.state_file import StateFile


def dead_owner() -> Owner:
    """An owner that existed and has exited (a pid plus its start time, so a reused pid is not it)."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    owner = Owner.of(process.pid)
    process.communicate(b"")
    return owner


def test_an_owner_is_alive_while_its_process_is_and_not_after() -> None:
    me = Owner.of(os.getpid())
    assert me.alive() and Owner.parse(me.token) == me
    assert not dead_owner().alive()
    assert not Owner(os.getpid(), me.started + 1).alive(), "a pid with another start time is another process"
    assert Owner.parse("") is None and Owner.parse("12") is None and Owner.parse("a:b") is None


def test_ownership_without_an_owner_marks_the_session_only() -> None:
    assert Ownership("s").variables() == {SESSION_VARIABLE: "s"}
    owned = Ownership("s", Owner(1, 2))
    assert owned.variables() == {SESSION_VARIABLE: "s", OWNER_VARIABLE: "1:2"}
    assert set(owned.labels().values()) == {"s", "1:2"}


def test_a_state_file_is_written_whole_private_and_removed_by_none(tmp_path: Path) -> None:
    record = StateFile(tmp_path / "deep" / "deployment.json")
    assert record.read() is None
    record.write({"environment": "process", "group": 12})
    assert record.read() == {"environment": "process", "group": 12}
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.path.parent.stat().st_mode) == 0o700, "the directory made for it is private too"
    assert list(record.path.parent.iterdir()) == [record.path], "a temporary file was left beside the record"
    record.write(None)
    assert not record.path.exists()
    record.write(None)  # twice is fine


def test_only_the_process_groups_of_dead_owners_are_removed() -> None:
    session = f"unit-{uuid.uuid4().hex[:8]}"

    def marked(owner: Owner) -> subprocess.Popen[bytes]:
        env = {**os.environ, **Ownership(session, owner).variables()}
        return subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)

    orphan, owned = marked(dead_owner()), marked(Owner.of(os.getpid()))
    try:
        removed = remove_leftovers(session)

        assert [(leftover.kind, leftover.ident) for leftover in removed] == [("process group", str(orphan.pid))]
        orphan.wait(timeout=30)
        assert group_members(orphan.pid) == []
        assert group_members(owned.pid) == [owned.pid], "a live owner's process was removed"
    finally:
        for process in (orphan, owned):
            process.kill()
            process.wait()


def test_the_cli_help_says_what_each_action_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    help_text = capsys.readouterr().out
    for action, what in cli.ACTIONS.items():
        assert f"  {action}" in help_text and what in help_text
