"""A deployment's record on disk: written atomically, present exactly while something it describes may exist."""

import json
import os
from pathlib import Path
from typing import Any


class StateFile:
    """`write(state)` replaces the record in one rename (a reader never sees half of it); `write(None)` removes
    it. Its `write` is what a deployment's `recording_to` takes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None

    def write(self, state: dict[str, Any] | None) -> None:
        if state is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(state))
        os.chmod(temporary, 0o600)  # it names resources, and another user has no business reading it
        temporary.replace(self.path)
