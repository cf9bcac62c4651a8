"""Push a local image into a registry: one push at a time from this machine into one registry, and never again
what the registry already holds.

Pushes of one image that overlap race inside the registry. Distribution's filesystem store (the local stand-in for
Azure Container Registry) answers 500 ("invalid checksum digest format") when a blob's or a tag's link is read while
another push writes it; a registry in the cloud is sent every layer once per push. A lock file per registry server,
in the temp directory every process of this machine sees, puts the pushes in line, and a tag the registry already
holds for this very image is left alone, so a later push writes nothing a pull might be reading.
"""

import hashlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from provisioning.environments.image import docker_client
from provisioning.errors import DeploymentError

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.images import Image

PUSH_LOCK_TIMEOUT_S = 900.0  # a 645 MB image over a slow uplink; past this, the other push is stuck


def push_lock_path(server: str) -> Path:
    """The lock file of pushes into `server` (host[:port]); the same path in every process."""
    digest = hashlib.sha256(server.lower().encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"garch-mlops-push-{digest}.lock"


@contextmanager
def one_push_at_a_time(server: str, timeout_s: float = PUSH_LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the push lock of `server` while the block runs; DeploymentError if another push keeps it past timeout_s."""
    lock = FileLock(push_lock_path(server))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout as error:
        raise DeploymentError(
            f"another push into {server} from this machine has not finished in {timeout_s:.0f} s "
            f"(lock {lock.lock_file}); stop it, or wait and deploy again"
        ) from error
    try:
        yield
    finally:
        lock.release()


def registry_holds(
    client: "DockerClient", image: "Image", repository: str, tag: str, auth: dict[str, str] | None
) -> bool:
    """Whether `repository:tag` in its registry is this image as this engine pushed it (its digest is one of the
    image's RepoDigests). Asked of the registry itself: a registry started afresh on a reused port holds nothing."""
    from docker.errors import APIError

    try:
        remote = client.images.get_registry_data(f"{repository}:{tag}", auth_config=auth)
    except APIError:  # not there, or not readable: push it
        return False
    image.reload()
    return f"{repository}@{remote.id}" in (image.attrs.get("RepoDigests") or [])


def push_tags(
    local_image: str,
    repository: str,
    tags: Sequence[str],
    auth: Mapping[str, str] | None = None,
    *,
    lock_timeout_s: float = PUSH_LOCK_TIMEOUT_S,
) -> None:
    """Push `local_image` as `repository:tag` (repository = <server>/<name>) for each tag, in line with every other
    push into that server from this machine, skipping a tag the registry already holds for this image."""
    client = docker_client()
    image = client.images.get(local_image)
    server = repository.split("/", 1)[0]
    config = dict(auth) if auth else None
    with one_push_at_a_time(server, lock_timeout_s):
        for tag in tags:
            image.tag(repository, tag=tag)
            if registry_holds(client, image, repository, tag, config):
                continue
            for line in client.images.push(repository, tag=tag, auth_config=config, stream=True, decode=True):
                if "error" in line:
                    raise DeploymentError(f"pushing {repository}:{tag} failed: {line['error']}")
