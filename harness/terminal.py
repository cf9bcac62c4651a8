"""Start a command the way a terminal would, so that a test can press Ctrl-C on it.

A shell that starts a job in the background (`command &` in a script, some CI runners) sets SIGINT to ignored for it,
and an ignored signal stays ignored across exec: a Python started from there never raises KeyboardInterrupt, and a test
that sends SIGINT to stand for a user's Ctrl-C would test nothing. The child gets what a terminal gives it instead:
SIGINT at its default, which Python turns into KeyboardInterrupt."""

import signal
import subprocess
from typing import Any


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_as_from_a_terminal(command: list[str], **popen_options: Any) -> subprocess.Popen[str]:
    """`subprocess.Popen(command, text=True, **popen_options)` with SIGINT at its default in the child."""
    return subprocess.Popen(command, text=True, preexec_fn=_default_sigint, **popen_options)
