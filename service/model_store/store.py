"""What every model store does, whatever holds the bytes: immutable versions and one pointer per model.

Layout, the same in a directory and in a Blob container:
    <name>/<version>.json   an artifact, written once (its name is its content's digest, so it never changes)
    <name>/current.json     the pointer to the version the service loads; publishing rewrites only this
A reader that finds the pointer finds a complete artifact, because the artifact is written first.
"""

import abc
import re
from datetime import datetime, timezone

from .artifact import (
    MODEL_NAME_PATTERN,
    VERSION_LENGTH,
    ModelArtifact,
    Pointer,
    StoredArtifact,
    artifact_bytes,
    decode_artifact,
    decode_pointer,
    encode_artifact,
    pointer_bytes,
    version_of,
)
from .errors import ArtifactCorrupt, ModelNotPublished, ModelStoreError

POINTER = "current.json"
SUFFIX = ".json"


class ModelStore(abc.ABC):
    """Published model artifacts; subclasses only move bytes, this class decides what they mean."""

    location: str
    """Where the store is, printable (no credentials): a directory path or a container URL."""

    @abc.abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The bytes at `key`, verified against the backend's own checksum where it has one; None if absent."""

    @abc.abstractmethod
    def _write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        """Store `data` at `key` so that a reader sees all of it or nothing of it."""

    @abc.abstractmethod
    def _keys(self, prefix: str) -> list[str]:
        """Every key that starts with `prefix`."""

    def publish(self, artifact: ModelArtifact, *, at: datetime | None = None) -> Pointer:
        """Store the artifact (if this content is new) and make it its model's current version; publishing what is
        already current changes nothing (the version is the content's, not the time's)."""
        stored = encode_artifact(artifact)
        key = artifact_key(artifact.name, stored.version)
        existing = self._read(key)
        if existing is None:
            self._write(key, artifact_bytes(stored), overwrite=False)
        elif self._decode(existing, key).digest != stored.digest:
            raise ModelStoreError(f"{self._where(key)}: holds another artifact with this version; not overwritten")
        elif (current := self._current_pointer(artifact.name)) is not None and current.digest == stored.digest:
            return current
        return self._point(artifact.name, stored.digest, at)

    def _current_pointer(self, name: str) -> Pointer | None:
        data = self._read(pointer_key(name))
        return decode_pointer(data, where=self._where(pointer_key(name))) if data is not None else None

    def promote(self, name: str, version: str, *, at: datetime | None = None) -> Pointer:
        """Make an already published version current again (a rollback is a promote of the previous version)."""
        return self._point(name, self.read(name, version).digest, at)

    def pointer(self, name: str) -> Pointer:
        key = pointer_key(name)
        data = self._read(key)
        if data is None:
            raise ModelNotPublished(f"model store {self.location}: no current version of {name} (publish it first)")
        pointer = decode_pointer(data, where=self._where(key))
        if pointer.name != name:
            raise ArtifactCorrupt(f"{self._where(key)}: points at model {pointer.name}, not {name}")
        return pointer

    def read(self, name: str, version: str) -> StoredArtifact:
        key = artifact_key(name, version)
        data = self._read(key)
        if data is None:
            raise ModelNotPublished(f"model store {self.location}: no version {version} of {name}")
        stored = self._decode(data, key)
        if stored.artifact.name != name or stored.version != version:
            raise ArtifactCorrupt(
                f"{self._where(key)}: holds {stored.artifact.name} version {stored.version}, not {name} {version}"
            )
        return stored

    def current(self, name: str) -> StoredArtifact:
        """The version the pointer names, checked to be exactly the artifact the pointer was written for."""
        pointer = self.pointer(name)
        stored = self.read(name, pointer.version)
        if stored.digest != pointer.digest:
            raise ArtifactCorrupt(
                f"{self._where(artifact_key(name, pointer.version))}: digest {stored.digest} is not the "
                f"{pointer.digest} its pointer expects"
            )
        return stored

    def names(self) -> list[str]:
        """Models with a current version."""
        suffix = f"/{POINTER}"
        return sorted(key.removesuffix(suffix) for key in self._keys("") if key.endswith(suffix))

    def versions(self, name: str) -> list[str]:
        """Every stored version of a model (unordered by time: read `created_at` for that)."""
        keys = self._keys(f"{name}/")
        return sorted(
            key.split("/", 1)[1].removesuffix(SUFFIX) for key in keys if key.endswith(SUFFIX) and POINTER not in key
        )

    def _point(self, name: str, digest: str, at: datetime | None) -> Pointer:
        pointer = Pointer(
            name=name, version=version_of(digest), digest=digest, published_at=at or datetime.now(timezone.utc)
        )
        self._write(pointer_key(name), pointer_bytes(pointer), overwrite=True)
        return pointer

    def _decode(self, data: bytes, key: str) -> StoredArtifact:
        return decode_artifact(data, where=self._where(key))

    def _where(self, key: str) -> str:
        return f"model store {self.location}: {key}"


def artifact_key(name: str, version: str) -> str:
    """Names and versions become paths, so only their documented shapes are accepted."""
    if not re.fullmatch(MODEL_NAME_PATTERN, name):
        raise ValueError(f"not a model name: {name!r}")
    if not re.fullmatch(rf"[0-9a-f]{{{VERSION_LENGTH}}}", version):
        raise ValueError(f"not a model version ({VERSION_LENGTH} hex digits): {version!r}")
    return f"{name}/{version}{SUFFIX}"


def pointer_key(name: str) -> str:
    if not re.fullmatch(MODEL_NAME_PATTERN, name):
        raise ValueError(f"not a model name: {name!r}")
    return f"{name}/{POINTER}"
