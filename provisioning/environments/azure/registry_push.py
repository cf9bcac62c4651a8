"""Push the locally built image to the run's registry under an immutable tag derived from its content."""

from provisioning.environments.azure.container_group_spec import RegistryLogin
from provisioning.environments.image import docker_client
from provisioning.errors import DeploymentError


def immutable_tag(image: str) -> str:
    """`<version>-sha-<12 hex of the content id>`: the same bytes always get the same tag, new bytes a new one."""
    local = docker_client().images.get(image)
    version = (local.labels or {}).get("org.opencontainers.image.version", "unversioned")
    return f"{version}-sha-" + str(local.id).split(":", 1)[1][:12]


def push_image(local_image: str, login: RegistryLogin, repository: str = "garch-mlops") -> str:
    """Tag and push `local_image` as <server>/<repository>:<content tag> (and :latest); returns the reference."""
    client = docker_client()
    image = client.images.get(local_image)
    tag = immutable_tag(local_image)
    target = f"{login.server}/{repository}"
    auth = {"username": login.username, "password": login.password}
    for name in (tag, "latest"):
        image.tag(target, tag=name)
        for line in client.images.push(target, tag=name, auth_config=auth, stream=True, decode=True):
            if "error" in line:
                raise DeploymentError(f"pushing {target}:{name} failed: {line['error']}")
    return f"{target}:{tag}"
