"""ACI's checks of a container group PUT that need more than one property, the quota, or the image's registry.

The image must be accessible the way ACI checks it synchronously (400 InaccessibleImage otherwise): it lives in
the local registry, a registry resource with that login server exists, and the group's imageRegistryCredentials
match its admin credentials (or it allows anonymous pull).
"""

from typing import Any

import httpx

from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.providers.base import Context
from harness.arm_emulator.providers.container_registry import Registries
from harness.arm_emulator.routes import ResourceRef

MAX_CPU, MAX_MEMORY_GB = 4.0, 16.0
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)


def check_group(ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
    """Raise ArmError for the first rule a schema-valid group breaks, in the order ACI reports them."""
    properties = body["properties"]
    exposed = _check_containers(properties["containers"], body["location"])
    _check_ip_address(ref, properties, exposed)
    for position, credential in enumerate(properties.get("imageRegistryCredentials") or []):
        if not credential.get("identity") and not (credential.get("username") and credential.get("password")):
            raise invalid_property(
                f"properties.imageRegistryCredentials[{position}]", "needs username and password, or identity"
            )
    _check_volume_mounts(properties)
    for container in properties["containers"]:
        check_image(ref, container["properties"]["image"], properties, ctx)


def _check_containers(containers: list[dict[str, Any]], location: str) -> set[tuple[int, str]]:
    """Each container's variables, limits and probes, then the group's total request; returns the exposed ports."""
    exposed: set[tuple[int, str]] = set()
    cpu = memory = 0.0
    for index, container in enumerate(containers):
        path = f"properties.containers[{index}].properties"
        spec = container["properties"]
        for port in spec.get("ports") or []:
            exposed.add((port["port"], port.get("protocol", "TCP").upper()))
        for position, variable in enumerate(spec.get("environmentVariables") or []):
            has_value, has_secure = variable.get("value") is not None, variable.get("secureValue") is not None
            if has_value == has_secure:
                raise invalid_property(
                    f"{path}.environmentVariables[{position}]",
                    f"({variable['name']}) must have exactly one of value or secureValue",
                )
        requests = spec["resources"]["requests"]
        limits = spec["resources"].get("limits") or {}
        for key in ("cpu", "memoryInGB"):
            if key in limits and limits[key] < requests[key]:
                raise invalid_property(
                    f"{path}.resources.limits.{key}", f"must not be below the request ({requests[key]})"
                )
        cpu += requests["cpu"]
        memory += requests["memoryInGB"]
        for probe in ("livenessProbe", "readinessProbe"):
            if probe in spec and (("exec" in spec[probe]) == ("httpGet" in spec[probe])):
                raise invalid_property(f"{path}.{probe}", "must have exactly one of exec or httpGet")
    if cpu > MAX_CPU or memory > MAX_MEMORY_GB:
        raise ArmError(
            400,
            "ServiceUnavailable",
            f"The requested resource with '{cpu:g}' CPU and '{memory:g}' GB memory is not available in the "
            f"location '{location}' at this moment "
            f"(at most {MAX_CPU:g} CPU and {MAX_MEMORY_GB:g} GB per group).",
        )
    return exposed


def _check_ip_address(ref: ResourceRef, properties: dict[str, Any], exposed: set[tuple[int, str]]) -> None:
    ip_address = properties.get("ipAddress")
    if ip_address is None:
        return
    if not ip_address["ports"]:
        raise ArmError(
            400,
            "MissingIpAddressPorts",
            f"The ports in the 'ipAddress' of container group '{ref.name}' cannot be empty.",
            target="properties.ipAddress.ports",
        )
    for position, port in enumerate(ip_address["ports"]):
        if (port["port"], port.get("protocol", "TCP").upper()) not in exposed:
            raise invalid_property(
                f"properties.ipAddress.ports[{position}]",
                f"({port['port']}) is not exposed by any container (add it to a container's ports)",
            )
    if ip_address["type"].lower() == "private" and not properties.get("subnetIds"):
        raise invalid_property("properties.subnetIds", "is required with a Private ipAddress")


def _check_volume_mounts(properties: dict[str, Any]) -> None:
    volume_names = {volume["name"] for volume in properties.get("volumes") or []}
    for index, container in enumerate(properties["containers"]):
        for position, mount in enumerate(container["properties"].get("volumeMounts") or []):
            if mount["name"] not in volume_names:
                raise invalid_property(
                    f"properties.containers[{index}].properties.volumeMounts[{position}].name",
                    f"names no volume of the group: {mount['name']!r}",
                )


def check_image(ref: ResourceRef, image: str, properties: dict[str, Any], ctx: Context) -> None:
    """ACI's synchronous image check: reachable registry, accepted credentials, existing manifest."""
    inaccessible = ArmError(
        400,
        "InaccessibleImage",
        f"The image '{image}' in container group '{ref.name}' is not accessible. "
        "Please check the image and registry credential.",
    )
    host = registry_host(image)
    if ctx.settings.registry is None or host != ctx.settings.registry.lower():
        raise inaccessible
    registries = [
        resource
        for resource in ctx.store.all()
        if resource.type == Registries.type and resource.properties.get("loginServer", "").lower() == host
    ]
    credentials = [
        credential
        for credential in properties.get("imageRegistryCredentials") or []
        if credential["server"].lower() == host
    ]
    allowed = any(
        Registries.accepts(registry, credential.get("username"), credential.get("password"))
        or bool(credential.get("identity"))
        for registry in registries
        for credential in credentials or [{}]
    )
    if not allowed:
        raise inaccessible
    repository, reference = _split_image(image)
    try:
        response = httpx.head(
            f"http://{host}/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}, timeout=5
        )
    except httpx.HTTPError:
        raise inaccessible from None
    if response.status_code != 200:
        raise inaccessible


def registry_host(image: str) -> str:
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def _split_image(image: str) -> tuple[str, str]:
    """(repository path in its registry, tag or digest)."""
    _, _, path = image.partition("/")
    if "@" in path:
        repository, reference = path.split("@", 1)
        return repository, reference
    repository, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    return repository, tag
