"""Container Apps' checks of an app PUT that need more than one field, the store, or the app's revisions.

In the order Container Apps reports them: the environment exists, the CPU/memory total is a consumption pair, the
scale rules are ones Container Apps accepts, secret references resolve, registries name an identity or a username
with a password secret, the traffic entries name revisions that exist (or the one this request creates, or
`latestRevision`), weights add up to 100 and a label is used at most once.
"""

import hashlib
import json
import re
from typing import Any

from harness.arm_emulator.app_scale_rules import ScaleRuleError, ScaleRules
from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.providers.base import Context

ENVIRONMENTS = "Microsoft.App/managedEnvironments"
MEMORY = re.compile(r"^(?P<amount>\d+(\.\d+)?)\s*(?P<unit>Gi|Mi|G|M)?$")
CPU_STEP, MAX_CPU = 0.25, 4.0
CONSUMPTION_PAIRS = tuple((quarter * CPU_STEP, quarter * CPU_STEP * 2) for quarter in range(1, 17))
DEFAULT_CPU, DEFAULT_MEMORY = "0.5", "1Gi"


def template_digest(template: dict[str, Any]) -> str:
    """What decides whether a PUT makes a new revision: any change of the template (suffix included)."""
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()


def memory_gi(text: str) -> float | None:
    match = MEMORY.match(text.strip())
    if match is None:
        return None
    amount = float(match["amount"])
    return amount / 1024 if (match["unit"] or "Gi").startswith("M") else amount


def check_app(name: str, body: dict[str, Any], ctx: Context, revisions: list[str]) -> None:
    """Raise ArmError for the first rule a schema-valid app body breaks."""
    properties = body["properties"]
    _check_environment(properties, ctx)
    template = properties["template"]
    _check_resources(template["containers"])
    configuration = properties.get("configuration") or {}
    secrets = {secret["name"] for secret in configuration.get("secrets") or []}
    _check_secrets(configuration.get("secrets") or [])
    _check_env_refs(template["containers"], secrets)
    _check_registries(configuration.get("registries") or [], secrets, body.get("identity") or {})
    _check_probes(template["containers"])
    try:
        ScaleRules.parse(template.get("scale"))
    except ScaleRuleError as refused:
        raise invalid_property(refused.path, refused.problem, "ContainerAppInvalidScaleRule") from None
    suffix = template.get("revisionSuffix")
    creates = f"{name}--{suffix}" if suffix else None
    ingress = configuration.get("ingress")
    if ingress is not None:
        if ingress.get("targetPort") is None:
            raise invalid_property(
                "properties.configuration.ingress.targetPort", "is required", "ContainerAppInvalidIngress"
            )
        _check_traffic(ingress.get("traffic") or [], revisions, creates)


def check_new_revision(name: str, template: dict[str, Any], previous_digest: str | None, revisions: list[str]) -> None:
    """A changed template with a suffix that an existing revision already has is refused."""
    suffix = template.get("revisionSuffix")
    if not suffix or previous_digest == template_digest(template):
        return
    if f"{name}--{suffix}".lower() in {revision.lower() for revision in revisions}:
        raise ArmError(
            400,
            "ContainerAppRevisionSuffixConflict",
            f"Revision '{name}--{suffix}' already exists: a changed template needs a new "
            "properties.template.revisionSuffix.",
            target="properties.template.revisionSuffix",
        )


def environment_of(properties: dict[str, Any]) -> str | None:
    return properties.get("managedEnvironmentId") or properties.get("environmentId")


def _check_environment(properties: dict[str, Any], ctx: Context) -> None:
    environment = environment_of(properties)
    if not environment:
        raise invalid_property("properties.managedEnvironmentId", "is required", "ManagedEnvironmentIdRequired")
    if ctx.existing(environment, ENVIRONMENTS) is None:
        raise ArmError(
            404,
            "ManagedEnvironmentNotFound",
            f"Managed environment '{environment}' was not found.",
            target="properties.managedEnvironmentId",
        )


def _check_resources(containers: list[dict[str, Any]]) -> None:
    cpu = memory = 0.0
    for index, container in enumerate(containers):
        resources = container.get("resources") or {}
        amount = memory_gi(str(resources.get("memory", DEFAULT_MEMORY)))
        if amount is None:
            raise invalid_property(
                f"properties.template.containers[{index}].resources.memory",
                f"must be an amount in Gi (e.g. '1Gi', '0.5Gi'), not {resources.get('memory')!r}",
                "ContainerAppInvalidResourceTotal",
            )
        cpu += float(resources.get("cpu", DEFAULT_CPU))
        memory += amount
    if not any(
        abs(cpu - pair_cpu) < 1e-9 and abs(memory - pair_memory) < 1e-9 for pair_cpu, pair_memory in CONSUMPTION_PAIRS
    ):
        pairs = "; ".join(
            f"[cpu: {pair_cpu:g}, memory: {pair_memory:g}Gi]" for pair_cpu, pair_memory in CONSUMPTION_PAIRS
        )
        raise ArmError(
            400,
            "ContainerAppInvalidResourceTotal",
            f"The total requested CPU and memory resources for this application (CPU: {cpu:g}, memory: "
            f"{memory:g}Gi) is invalid. Total CPU and memory for all containers defined in a Container App must add "
            f"up to one of the following CPU - Memory combinations: {pairs}",
            target="properties.template.containers",
        )


def _check_secrets(secrets: list[dict[str, Any]]) -> None:
    for index, secret in enumerate(secrets):
        if secret.get("value") is None and not secret.get("keyVaultUrl"):
            raise invalid_property(
                f"properties.configuration.secrets[{index}]",
                f"({secret['name']}) needs a value or a keyVaultUrl",
                "ContainerAppSecretInvalid",
            )
        if secret.get("keyVaultUrl") and (secret.get("value") is not None or not secret.get("identity")):
            raise invalid_property(
                f"properties.configuration.secrets[{index}]",
                f"({secret['name']}) with a keyVaultUrl needs the identity that reads it, and no value",
                "ContainerAppSecretInvalid",
            )


def _check_env_refs(containers: list[dict[str, Any]], secrets: set[str]) -> None:
    for index, container in enumerate(containers):
        for position, variable in enumerate(container.get("env") or []):
            path = f"properties.template.containers[{index}].env[{position}]"
            if (variable.get("value") is not None) == (variable.get("secretRef") is not None):
                raise invalid_property(path, f"({variable['name']}) must have exactly one of value or secretRef")
            reference = variable.get("secretRef")
            if reference is not None and reference not in secrets:
                raise ArmError(
                    400,
                    "ContainerAppSecretRefNotFound",
                    f"Container '{container['name']}' references secret '{reference}' in env '{variable['name']}', "
                    "which is not defined in properties.configuration.secrets.",
                    target=f"{path}.secretRef",
                )


def _check_registries(registries: list[dict[str, Any]], secrets: set[str], identity: dict[str, Any]) -> None:
    identity_type = str(identity.get("type", "None")).replace(" ", "").lower()
    assigned = {key.lower() for key in identity.get("userAssignedIdentities") or {}}
    for index, registry in enumerate(registries):
        path = f"properties.configuration.registries[{index}]"
        chosen = registry.get("identity")
        if chosen:
            if chosen.lower() == "system":
                if "systemassigned" not in identity_type:
                    raise invalid_property(
                        f"{path}.identity",
                        "is 'system' but the app has no system-assigned identity (identity.type)",
                        "ContainerAppRegistryIdentityNotFound",
                    )
            elif chosen.lower() not in assigned:
                raise invalid_property(
                    f"{path}.identity",
                    f"must be 'system' or a user-assigned identity of the app (identity.userAssignedIdentities), "
                    f"not {chosen!r}",
                    "ContainerAppRegistryIdentityNotFound",
                )
            continue
        if not registry.get("username") or not registry.get("passwordSecretRef"):
            raise invalid_property(
                path, "needs identity, or username and passwordSecretRef", "ContainerAppInvalidRegistry"
            )
        if registry["passwordSecretRef"] not in secrets:
            raise ArmError(
                400,
                "ContainerAppSecretRefNotFound",
                f"Registry '{registry['server']}' references password secret '{registry['passwordSecretRef']}', "
                "which is not defined in properties.configuration.secrets.",
                target=f"{path}.passwordSecretRef",
            )


def _check_probes(containers: list[dict[str, Any]]) -> None:
    for index, container in enumerate(containers):
        kinds: set[str] = set()
        for position, probe in enumerate(container.get("probes") or []):
            path = f"properties.template.containers[{index}].probes[{position}]"
            if ("httpGet" in probe) == ("tcpSocket" in probe):
                raise invalid_property(
                    path, "must have exactly one of httpGet or tcpSocket", "ContainerAppInvalidProbe"
                )
            kind = str(probe.get("type", "Liveness")).lower()
            if kind in kinds:
                raise invalid_property(
                    f"{path}.type", f"repeats a {probe.get('type')} probe", "ContainerAppInvalidProbe"
                )
            kinds.add(kind)


def _check_traffic(traffic: list[dict[str, Any]], revisions: list[str], creates: str | None) -> None:
    known = {revision.lower() for revision in revisions} | ({creates.lower()} if creates else set())
    labels: set[str] = set()
    for index, entry in enumerate(traffic):
        path = f"properties.configuration.ingress.traffic[{index}]"
        named, latest = entry.get("revisionName"), bool(entry.get("latestRevision"))
        if bool(named) == latest:
            raise invalid_property(
                path, "must have exactly one of revisionName or latestRevision: true", "ContainerAppInvalidTraffic"
            )
        if named and named.lower() not in known:
            raise ArmError(
                400,
                "ContainerAppRevisionNotFound",
                f"Revision '{named}' named in {path}.revisionName does not exist.",
                target=f"{path}.revisionName",
            )
        label = entry.get("label")
        if label is not None:
            if label.lower() in labels:
                raise ArmError(
                    400,
                    "ContainerAppDuplicateTrafficLabel",
                    f"The traffic label '{label}' is used more than once in properties.configuration.ingress.traffic.",
                    target=f"{path}.label",
                )
            labels.add(label.lower())
    total = sum(int(entry.get("weight") or 0) for entry in traffic)
    if traffic and total != 100:
        raise ArmError(
            400,
            "ContainerAppInvalidTrafficWeight",
            f"The traffic weights in properties.configuration.ingress.traffic add up to {total}; they must add up "
            "to 100.",
            target="properties.configuration.ingress.traffic",
        )
