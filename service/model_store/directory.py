"""A model store in a local directory: for the process and local deployments, and a store mounted into a container.

Files are world-readable (0644, directories 0755): the service may run as another user than the publisher (the
image's `garch` user reading a directory mounted from the host), and artifacts hold no secrets.
"""

import os
import tempfile
from pathlib import Path

from .errors import StoreUnreachable
from .store import ModelStore

FILE_MODE = 0o644
DIRECTORY_MODE = 0o755


class DirectoryModelStore(ModelStore):
    """`root/<name>/<version>.json` and `root/<name>/current.json`; every write is a rename, so never half-seen."""

    def __init__(self, root: Path | str, *, create: bool = False) -> None:
        self.root = Path(root).absolute()
        self.location = str(self.root)
        if create and not self.root.exists():
            _make_directory(self.root)
        if not self.root.is_dir():
            raise StoreUnreachable(
                f"model store {self.location}: no such directory (wrong MODEL_STORE, or not mounted?)"
            )

    def _read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            if not self.root.is_dir():
                raise StoreUnreachable(f"model store {self.location}: the directory has gone") from None
            return None
        except OSError as error:
            raise StoreUnreachable(f"model store {self.location}: cannot read {key}: {error.strerror}") from error

    def _write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        target = self.root / key
        if not target.parent.is_dir():
            _make_directory(target.parent)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, FILE_MODE)
            if overwrite:
                os.replace(temporary, target)
            else:
                os.link(temporary, target)  # fails if the target exists: an artifact is never replaced
        finally:
            Path(temporary).unlink(missing_ok=True)

    def _keys(self, prefix: str) -> list[str]:
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*.json")
            if path.is_file() and path.relative_to(self.root).as_posix().startswith(prefix)
        )


def _make_directory(path: Path) -> None:
    """Readable by every user whatever the umask; only directories made here get their mode set."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIRECTORY_MODE)
