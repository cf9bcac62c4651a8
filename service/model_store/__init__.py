"""Published model artifacts: their JSON schema, their digest, and the stores that hold them (a directory, Blob)."""

from .artifact import ModelArtifact, Pointer, StoredArtifact
from .errors import (
    ArtifactCorrupt,
    ArtifactIncompatible,
    ModelNotPublished,
    ModelStoreError,
    StoreUnreachable,
)
from .location import open_store
from .store import ModelStore

__all__ = [
    "ArtifactCorrupt",
    "ArtifactIncompatible",
    "ModelArtifact",
    "ModelNotPublished",
    "ModelStore",
    "ModelStoreError",
    "Pointer",
    "StoreUnreachable",
    "StoredArtifact",
    "open_store",
]
