"""The lock xdist workers share around sweeps: tests that start sessions of their own (each first sweeps what dead
sessions left) run beside each other, and a test that checks who removes a killed session's leftovers runs beside
none of them."""

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from harness.pytest_plugin.deployment import file_lock

DEADLINE_S = 10.0
NOT_WITHIN_S = 0.5  # how long a holder that must wait is given to (wrongly) get in


@contextmanager
def holder(path: Path, *, shared: bool) -> Iterator[threading.Event]:
    """Takes the lock from another thread, through its own open file as another worker would, and holds it until
    the block ends; yields the event set once it holds it."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with file_lock(path, shared=shared):
            holding.set()
            release.wait(DEADLINE_S)

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


def test_sweeping_alone_waits_for_the_sweeps_under_way(tmp_path: Path) -> None:
    lock = tmp_path / "sweep.lock"
    with ExitStack() as alone_stack:
        with holder(lock, shared=True) as sweeping:
            assert sweeping.wait(DEADLINE_S)
            alone = alone_stack.enter_context(holder(lock, shared=False))
            assert not alone.wait(NOT_WITHIN_S), "the test sweeping alone got in beside a sweep"
        assert alone.wait(DEADLINE_S), "the test sweeping alone still waits after the sweep ended"


def test_no_sweep_starts_beside_a_test_sweeping_alone(tmp_path: Path) -> None:
    lock = tmp_path / "sweep.lock"
    with ExitStack() as sweep_stack:
        with holder(lock, shared=False) as alone:
            assert alone.wait(DEADLINE_S)
            sweeping = sweep_stack.enter_context(holder(lock, shared=True))
            assert not sweeping.wait(NOT_WITHIN_S), "a sweep started beside the test sweeping alone"
        assert sweeping.wait(DEADLINE_S), "the sweep still waits after the test sweeping alone ended"
