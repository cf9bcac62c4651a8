"""What every environment's deployment offers the harness: a URL, logs, and a lifecycle that always cleans up."""

import abc
from collections.abc import Callable
from types import TracebackType
from typing import Any

from typing_extensions import Self

StateRecorder = Callable[[dict[str, Any] | None], None]
"""Receives a deployment's state each time what exists changes, and None once nothing it made is left."""


class Deployment(abc.ABC):
    """A running API the suites can reach. A context manager: leaving it tears down, also when start failed.

    Whoever must find the deployment again from another process (the CLI's state file, the harness's xdist
    workers) registers a recorder with `recording_to`: the deployment calls it before and after every change to
    what exists, so a record is never behind reality, even when the process dies between two steps.
    """

    environment: str
    _recorder: StateRecorder | None = None

    def __init__(self) -> None:
        self.created_now: list[str] = []
        """What this object's `start` calls created, in words; empty after a start that found it all running."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """Base URL of the API, without a trailing slash."""

    @property
    @abc.abstractmethod
    def version(self) -> str:
        """What this deployment runs: an image reference or the package version."""

    @abc.abstractmethod
    def start(self) -> None:
        """Provision (or start again after `stop`) and return once /health answers 200."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Take the API down but keep what is needed to `start` it again."""

    @abc.abstractmethod
    def teardown(self) -> list[str]:
        """Remove everything this deployment created and return what was removed, in words (empty: nothing was
        left). Safe to call twice, after a failed start, and on a deployment attached from a record."""

    @abc.abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything needed to find this deployment again from another process (JSON-serialisable)."""

    @abc.abstractmethod
    def logs(self) -> str:
        """Everything the API has written to stdout and stderr so far."""

    def recording_to(self, recorder: StateRecorder) -> Self:
        """Report every change of what exists to `recorder` (see the class docstring)."""
        self._recorder = recorder
        return self

    def _record(self, *, gone: bool = False) -> None:
        if self._recorder is not None:
            self._recorder(None if gone else self.state())

    def restart(self) -> None:
        self.stop()
        self.start()

    def start_or_undo(self, on_undo: Callable[[list[str]], None] = lambda removed: None) -> None:
        """Start; on any failure (Ctrl-C and SIGTERM too) tear down what the start created, tell `on_undo` what that
        removed, and re-raise. If the teardown fails as well, a recorder still holds what may exist."""
        try:
            self.start()
        except BaseException:
            on_undo(self.teardown())
            raise

    def __enter__(self) -> Self:
        self.start_or_undo()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.teardown()
