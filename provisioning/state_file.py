"""A deployment's record on disk: written atomically, present exactly while something it describes may exist.

It names resources and holds no secret values (provisioning/environments/secrets.py), and still is nobody else's
business: the file is created 0600 and a directory made for it 0700, from the first byte (never chmod afterwards).
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

DIRECTORY_MODE = 0o700


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
        self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        # mkstemp creates the file 0600 with O_EXCL, so no other user can open it between creation and rename.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(state, file)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
