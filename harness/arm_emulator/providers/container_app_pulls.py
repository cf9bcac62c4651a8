"""Whether a container app may pull its image, decided as Azure Container Registry would, and the revision's plan.

The local docker-registry is every registry's login server and has no authentication, so the emulator plays ACR's
part: a `registries` entry with `identity: system` pulls only when the app's system-assigned identity holds AcrPull
(or AcrPush, Contributor, Owner) on the registry, its resource group or the subscription; `username` +
`passwordSecretRef` pull when they are the registry's admin credentials; no entry pulls when the registry allows
anonymous pull. A user-assigned identity is trusted (user-assigned identities are not emulated). The role is read
each time a revision is provisioned, so assigning it and then restarting the revision (or creating a new one)
makes the pull work, as on Azure.
"""

from collections.abc import Callable
from typing import Any

from harness.arm_emulator.app_probes import ProbeSet
from harness.arm_emulator.app_revisions import RevisionPlan
from harness.arm_emulator.container_specs import ContainerSpec
from harness.arm_emulator.providers.authorization import holds_role
from harness.arm_emulator.providers.base import Context
from harness.arm_emulator.providers.container_app_checks import DEFAULT_CPU, DEFAULT_MEMORY, memory_gi
from harness.arm_emulator.providers.container_group_checks import registry_host
from harness.arm_emulator.providers.container_registry import Registries
from harness.arm_emulator.providers.key_vault import key_vault_secret
from harness.arm_emulator.store import StoredResource

PULL_ROLES = frozenset(
    {
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",  # AcrPull
        "8311e382-0749-4cb8-b61a-304f252e45ec",  # AcrPush
        "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    }
)


def secret_values(app: StoredResource) -> dict[str, str]:
    secrets = (app.properties.get("configuration") or {}).get("secrets") or []
    return {secret["name"]: str(secret.get("value") or "") for secret in secrets}


def resolved_secrets(ctx: Context, app: StoredResource) -> tuple[dict[str, str], str | None]:
    """Every secret's value, Key Vault references read through the app's identity; and the first one that could not
    be read (Azure's provisioning error), if any."""
    values, denied = secret_values(app), None
    for secret in (app.properties.get("configuration") or {}).get("secrets") or []:
        if secret.get("keyVaultUrl"):
            value, error = key_vault_secret(ctx, app, secret)
            denied = denied or error
            values[secret["name"]] = value or ""
    return values, denied


def pull_denied(ctx: Context, app: StoredResource, container: dict[str, Any]) -> str | None:
    """Why the app may not pull this container's image (Azure's provisioning error), or None when it may."""
    image = container["image"]
    host = registry_host(image)
    unauthorized = (
        f"Field 'template.containers.{container['name']}.image' is invalid with details: 'Invalid value: "
        f'"{image}": GET https://{host}/v2/: UNAUTHORIZED: authentication required'
    )
    registry = next(
        (
            resource
            for resource in ctx.store.all()
            if resource.type == Registries.type and resource.properties.get("loginServer", "").lower() == host
        ),
        None,
    )
    if registry is None:
        return f"{unauthorized}'; no registry in this subscription has the login server '{host}'."
    entries = [
        entry
        for entry in (app.properties.get("configuration") or {}).get("registries") or []
        if entry["server"].lower() == host
    ]
    if not entries:
        return (
            None
            if registry.properties.get("anonymousPullEnabled")
            else f"{unauthorized}'; no registries entry for '{host}'."
        )
    for entry in entries:
        identity = (entry.get("identity") or "").lower()
        if identity == "system":
            principal = (app.body.get("identity") or {}).get("principalId")
            if principal and holds_role(ctx, principal, registry.id, PULL_ROLES):
                return None
            return (
                f"{unauthorized}'; the app's system-assigned identity ({principal}) has no AcrPull role "
                f"assignment on registry '{registry.id}'. Assign AcrPull, then restart the revision."
            )
        if identity:
            return None
        password = secret_values(app).get(entry.get("passwordSecretRef") or "")
        if Registries.accepts(registry, entry.get("username"), password):
            return None
    return f"{unauthorized}'; the registry's credentials were not accepted."


def plan_factory(
    ctx: Context, app_id: str, template: dict[str, Any], fault: tuple[str, int] | None
) -> Callable[[], RevisionPlan]:
    """The revision's plan, read when it is provisioned: secrets, registries and roles as they are then."""

    def plan() -> RevisionPlan:
        app = ctx.store.get(app_id)
        if app is None:
            raise KeyError(app_id)
        secrets, denied = resolved_secrets(ctx, app)
        ingress = (app.properties.get("configuration") or {}).get("ingress")
        target_port = int(ingress["targetPort"]) if ingress else None
        containers = []
        for container in template["containers"]:
            denied = denied or pull_denied(ctx, app, container)
            env = {
                variable["name"]: str(variable["value"])
                if variable.get("value") is not None
                else secrets.get(variable.get("secretRef") or "", "")
                for variable in container.get("env") or []
            }
            resources = container.get("resources") or {}
            containers.append(
                ContainerSpec(
                    name=container["name"],
                    image=container["image"],
                    env=env,
                    command=container.get("command") or None,
                    args=container.get("args") or None,
                    cpu=float(resources.get("cpu", DEFAULT_CPU)),
                    memory_gb=memory_gi(str(resources.get("memory", DEFAULT_MEMORY))) or 1.0,
                )
            )
        scale = template.get("scale") or {}
        return RevisionPlan(
            containers=containers,
            target_port=target_port,
            replicas=max(1, int(scale.get("minReplicas") or 0)),
            probes=ProbeSet.from_containers(template["containers"], target_port),
            pull_denied=denied,
            crash_exit_code=fault[1] if fault and fault[0] == "crash_on_start" else None,
            never_ready=bool(fault and fault[0] == "never_ready"),
            grace_s=float(template.get("terminationGracePeriodSeconds") or 30),
        )

    return plan
