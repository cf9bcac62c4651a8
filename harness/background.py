"""A worker on a thread of its own for the length of a `with` block: started on the way in, stopped and joined on
the way out (failure and Ctrl-C included), so no test leaves a probe or a watcher running."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar


class Worker(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...


W = TypeVar("W", bound=Worker)


@contextmanager
def in_background(worker: W, name: str, join_timeout_s: float = 30) -> Iterator[W]:
    thread = threading.Thread(target=worker.run, name=name, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(join_timeout_s)
