"""What every environment's deployment offers the harness: a URL, logs, and a lifecycle that always cleans up."""

import abc
from types import TracebackType
from typing import Any

from typing_extensions import Self


class Deployment(abc.ABC):
    """A running API the suites can reach. A context manager: leaving it tears down, also when start failed."""

    environment: str

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
    def teardown(self) -> None:
        """Remove everything this deployment created. Safe to call twice and after a failed start."""

    @abc.abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything needed to find this deployment again from another process (JSON-serialisable)."""

    @abc.abstractmethod
    def logs(self) -> str:
        """Everything the API has written to stdout and stderr so far."""

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.teardown()
