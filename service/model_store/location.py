"""MODEL_STORE: a directory path, or the URL of a Blob container; one function turns it into a store."""

from pathlib import Path

from .errors import StoreUnreachable
from .store import ModelStore

BLOB_SCHEMES = ("http://", "https://")


def is_blob_location(location: str) -> bool:
    return location.startswith(BLOB_SCHEMES)


def open_store(location: str, *, connection_string: str | None = None, create: bool = False) -> ModelStore:
    """The store at `location`; `create` (for publishers) makes the directory or container if it is missing.

    The Blob backend is imported only here, so a service that reads a directory needs no Azure SDK.
    """
    if is_blob_location(location):
        try:
            from .blob import open_blob_store
        except ImportError as error:
            raise StoreUnreachable(
                f"model store {location.split('?')[0]}: the Blob backend needs azure-storage-blob ({error})"
            ) from None

        store = open_blob_store(location, connection_string=connection_string)
        if create:
            store.create_container()
        return store
    from .directory import DirectoryModelStore

    return DirectoryModelStore(Path(location), create=create)
