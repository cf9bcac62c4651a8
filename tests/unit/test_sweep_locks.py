"""The lock xdist workers share around sweeps: tests that start sessions of their own (each first sweeps what dead
sessions left) run beside each other, and a test that checks who removes a killed session's leftovers runs beside
none of them."""

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from harness.pytest_plugin.deployment import file_lock

DEADLINE_S = 10.0  # for a holder that should get the lock
HOLD_AT_MOST_S = 60.0  # longer than any wait here, so no holder lets go of its own accord during a test
NOT_WITHIN_S = 0.5  # how long a holder that must wait is given to (wrongly) get in


@contextmanager
def holder(path: Path, *, shared: bool) -> Iterator[threading.Event]:
    """Takes the lock from another thread, through its own open file as another worker would, and holds it until
    the block ends; yields the event set once it holds it."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with file_lock(path, shared=shared):
            holding.set()
            release.wait(HOLD_AT_MOST_S)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield holding
    finally:
        release.set()
        thread.join(DEADLINE_S)


def test_sessions_that_sweep_hold_the_lock_side_by_side(tmp_path: Path) -> None:
    lock = tmp_path / "sweep.lock"
    with holder(lock, shared=True) as first, holder(lock, shared=True) as second:
        assert first.wait(DEADLINE_S) and second.wait(DEADLINE_S), "a second sweep waited for the first"


@pytest.mark.parametrize(
    ("first_shared", "what"),
    [
        (True, "the test sweeping alone got in beside a sweep"),
        (False, "a sweep started beside the test sweeping alone"),
    ],
    ids=["alone-waits-for-a-sweep", "a-sweep-waits-for-alone"],
)
def test_sweeping_alone_and_sweeps_take_turns(tmp_path: Path, first_shared: bool, what: str) -> None:
    lock = tmp_path / "sweep.lock"
    with ExitStack() as second_stack:
        with holder(lock, shared=first_shared) as first:
            assert first.wait(DEADLINE_S)
            second = second_stack.enter_context(holder(lock, shared=not first_shared))
            assert not second.wait(NOT_WITHIN_S), what
        assert second.wait(DEADLINE_S), "the second holder still waits after the first let go"
