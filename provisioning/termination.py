"""SIGTERM handled like Ctrl-C: a cancelled or timed-out CI job sends it, and teardown must still happen."""

import signal
from types import FrameType


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM. A KeyboardInterrupt, so every path that cleans up after Ctrl-C (pytest's
    session teardown, `finally` blocks, the CLI's undo of a failed deploy) cleans up after it too."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def handle_sigterm_as_interrupt() -> None:
    """Install the handler (main thread only, as Python's signal module requires)."""
    signal.signal(signal.SIGTERM, _raise_terminated)
