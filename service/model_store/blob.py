"""A model store in an Azure Blob Storage container (one container per environment), Azurite included.

Every blob is written with its Content-MD5 (the service checks it on upload) and read back only if its bytes still
hash to it. Credentials: a connection string (a secret, from the environment), a SAS token in the container URL,
or else DefaultAzureCredential: the managed identity of the container group, with Storage Blob Data Reader.
"""

import hashlib
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings, LinearRetry

from .errors import ArtifactCorrupt, ModelStoreError, StoreUnreachable
from .store import ModelStore

# The SDK's default storage retry waits 15 s and more between attempts: a store that is not there must fail
# start-up in seconds, with its reason, not after minutes.
CLIENT_OPTIONS: dict[str, Any] = {
    "retry_policy": LinearRetry(backoff=1, retry_total=2, random_jitter_range=0),
    "connection_timeout": 5,
    "read_timeout": 30,
}
UNREACHABLE = (ServiceRequestError, ServiceResponseError)


class BlobModelStore(ModelStore):
    """Blobs `<name>/<version>.json` and `<name>/current.json` in one container."""

    def __init__(self, container: ContainerClient, *, location: str | None = None) -> None:
        self._container = container
        self.location = location or printable(container.url)

    def create_container(self) -> None:
        """For the publisher: the service only ever reads, and may hold a read-only role."""
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        except (*UNREACHABLE, HttpResponseError) as error:
            raise self._unreachable(error) from error

    def _read(self, key: str) -> bytes | None:
        try:
            downloader = self._container.download_blob(key)
            data = downloader.readall()
        except ResourceNotFoundError as error:
            if getattr(error, "error_code", None) == "ContainerNotFound":
                raise StoreUnreachable(f"model store {self.location}: the container does not exist") from None
            return None
        except (*UNREACHABLE, HttpResponseError) as error:
            raise self._unreachable(error) from error
        recorded = downloader.properties.content_settings.content_md5
        if not recorded:
            raise ArtifactCorrupt(f"model store {self.location}: {key} has no Content-MD5 to check it against")
        if bytes(recorded) != _md5(data):
            raise ArtifactCorrupt(
                f"model store {self.location}: {key} does not match its Content-MD5 (corrupted in storage or transit)"
            )
        return data

    def _write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        settings = ContentSettings(content_type="application/json", content_md5=bytearray(_md5(data)))
        try:
            self._container.upload_blob(
                key, data, overwrite=overwrite, validate_content=True, content_settings=settings
            )
        except ResourceExistsError:
            raise ModelStoreError(f"model store {self.location}: {key} exists and is never overwritten") from None
        except (*UNREACHABLE, HttpResponseError) as error:
            raise self._unreachable(error) from error

    def _keys(self, prefix: str) -> list[str]:
        try:
            return sorted(blob.name for blob in self._container.list_blobs(name_starts_with=prefix or None))
        except ResourceNotFoundError:
            raise StoreUnreachable(f"model store {self.location}: the container does not exist") from None
        except (*UNREACHABLE, HttpResponseError) as error:
            raise self._unreachable(error) from error

    def _unreachable(self, error: Exception) -> StoreUnreachable:
        if isinstance(error, UNREACHABLE):
            return StoreUnreachable(f"model store {self.location}: does not answer ({_first_line(error)})")
        status = getattr(error, "status_code", None)
        if isinstance(error, ClientAuthenticationError) or status in (401, 403):
            return StoreUnreachable(
                f"model store {self.location}: access refused (HTTP {status}): check the connection string, "
                "or the identity's Storage Blob Data Reader role"
            )
        return StoreUnreachable(f"model store {self.location}: HTTP {status}: {_first_line(error)}")


def open_blob_store(container_url: str, *, connection_string: str | None = None) -> BlobModelStore:
    """The container at `container_url`, reached with the connection string, a SAS in the URL, or an identity."""
    parts = urlsplit(container_url)
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme not in ("http", "https") or not parts.netloc or not segments:
        raise StoreUnreachable(f"model store {printable(container_url)}: not a Blob container URL")
    location = printable(container_url)
    if connection_string:
        try:
            service = BlobServiceClient.from_connection_string(connection_string, **CLIENT_OPTIONS)
        except ValueError as error:
            raise StoreUnreachable(f"model store {location}: the connection string is not valid ({error})") from None
        container = service.get_container_client(segments[-1])
        if printable(container.url) != location:
            raise StoreUnreachable(
                f"model store {location}: not in the storage account of the connection string ({service.url})"
            )
    elif parts.query:
        container = ContainerClient.from_container_url(container_url, **CLIENT_OPTIONS)
    else:
        container = ContainerClient.from_container_url(container_url, credential=_identity(location), **CLIENT_OPTIONS)
    return BlobModelStore(container, location=location)


def printable(url: str) -> str:
    """The URL without its query (a SAS token is a secret) and trailing slash."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _identity(location: str) -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise StoreUnreachable(
            f"model store {location}: no MODEL_STORE_CONNECTION_STRING, and azure-identity is not installed "
            "for a managed identity"
        ) from None
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data, usedforsecurity=False).digest()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
