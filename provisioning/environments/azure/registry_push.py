"""Push the locally built image to the run's registry under an immutable tag derived from its content."""

from provisioning.environments.azure.container_group_spec import RegistryLogin
from provisioning.environments.image import docker_client
from provisioning.environments.image_push import push_tags


def immutable_tag(image: str) -> str:
    """`<version>-sha-<12 hex of the content id>`: the same bytes always get the same tag, new bytes a new one."""
    local = docker_client().images.get(image)
    version = (local.labels or {}).get("org.opencontainers.image.version", "unversioned")
    return f"{version}-sha-" + str(local.id).split(":", 1)[1][:12]


def push_image(local_image: str, login: RegistryLogin, repository: str = "garch-mlops") -> str:
    """Push `local_image` as <server>/<repository>:<content tag> (and :latest); returns the reference.

    In line with other pushes into the registry from this machine (provisioning/environments/image_push.py)."""
    tag = immutable_tag(local_image)
    target = f"{login.server}/{repository}"
    auth = {"username": login.username, "password": login.password}
    push_tags(local_image, target, (tag, "latest"), auth)
    return f"{target}:{tag}"
