"""Sessions that push one image into one registry at the same moment (the prod rehearsal's sessions into the shared
registry) all get it there, and the registry is sent each blob once: the pushes go one at a time, and the later ones
find the layers the first uploaded."""

import io
import re
import tarfile
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.stand_ins.registry import LocalRegistry
from provisioning.environments.azure.container_group_spec import RegistryLogin
from provisioning.environments.azure.registry_push import push_image
from provisioning.environments.image import docker_client

pytestmark = pytest.mark.emulator

PUSHES = 4
REPOSITORY = "garch-mlops-push-test"
BLOB_COMMIT = re.compile(r'"PUT /v2/[^ ]+/blobs/uploads/[^ ]*digest=sha256%3A([0-9a-f]{64}) HTTP/1.1" 201 ')
TAG_WRITE = re.compile(rf'"PUT /v2/{REPOSITORY}/manifests/([^ ]+) HTTP/1.1" 201 ')


@pytest.fixture
def small_image() -> Iterator[str]:
    """An image of three small layers built FROM scratch (no base to pull), removed afterwards."""
    files = {f"layer{index}": uuid.uuid4().bytes * 64 for index in range(3)}
    dockerfile = "FROM scratch\n" + "".join(f"COPY {name} /{name}\n" for name in files)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as archive:
        for name, content in {"Dockerfile": dockerfile.encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    context.seek(0)
    client = docker_client()
    reference = f"garch-mlops-push-test:{uuid.uuid4().hex[:8]}"
    image, _ = client.images.build(fileobj=context, custom_context=True, tag=reference, rm=True)
    try:
        yield reference
    finally:
        client.images.remove(image.id, force=True)


def test_pushes_at_the_same_moment_all_succeed_and_send_each_blob_and_tag_once(
    small_image: str, tmp_path: Path
) -> None:
    start_together = threading.Barrier(PUSHES)

    def push(login: RegistryLogin) -> str:
        start_together.wait(timeout=30)
        return push_image(small_image, login, repository=REPOSITORY)

    with LocalRegistry(tmp_path / "registry") as registry:
        login = RegistryLogin(server=registry.address, username="user", password="unused")
        with ThreadPoolExecutor(PUSHES) as pool:
            references = list(pool.map(push, [login] * PUSHES))
        log = registry.log_file.read_text()

    assert len(set(references)) == 1 and references[0].startswith(f"{registry.address}/{REPOSITORY}:")
    commits = Counter(BLOB_COMMIT.findall(log))
    assert len(commits) == 4, f"three layers and the config, got {sorted(commits)}"
    assert set(commits.values()) == {1}, f"blobs sent more than once: {commits}"
    tag_writes = Counter(TAG_WRITE.findall(log))
    assert tag_writes == {references[0].rsplit(":", 1)[1]: 1, "latest": 1}, f"tags written again: {tag_writes}"
