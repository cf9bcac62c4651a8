"""Microsoft.Authorization: role assignments on any scope, and the built-in role definitions they reference."""

import re
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import Context, ResourceKind
from harness.arm_emulator.providers.storage import blob_container_exists
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import GUID, Obj, Str, required
from harness.arm_emulator.store import StoredResource

# Built-in roles a deployment of this kind uses, by their fixed ids.
BUILT_IN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "8311e382-0749-4cb8-b61a-304f252e45ec": "AcrPush",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "43d0d8ad-25c7-4714-9337-8ba259a9fe05": "Monitoring Reader",
    "73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}
ROLE_DEFINITION_ID = re.compile(
    r"^(/subscriptions/(?P<subscription>[^/]+))?/providers/Microsoft\.Authorization/roleDefinitions/(?P<guid>[^/]+)$",
    re.I,
)
PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def holds_role(ctx: Context, principal: str, resource_id: str, roles: frozenset[str]) -> bool:
    """Whether `principal` holds one of `roles` (role definition GUIDs) on `resource_id` or a scope above it."""
    target = resource_id.lower()
    for assignment in ctx.store.all():
        if assignment.type != RoleAssignments.type:
            continue
        properties = assignment.properties
        scope = str(properties.get("scope", "")).lower().rstrip("/")
        role = str(properties.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
        covers = target == scope or target.startswith(scope + "/")
        if covers and role in roles and str(properties.get("principalId", "")).lower() == principal.lower():
            return True
    return False


def role_definition(subscription: str, guid: str) -> dict[str, Any]:
    name = BUILT_IN_ROLES[guid.lower()]
    return {
        "id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid.lower()}",
        "name": guid.lower(),
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": f"{name} (built-in role, as served by the ARM emulator)",
            "assignableScopes": ["/"],
            "permissions": [],
        },
    }


class RoleDefinitions(ResourceKind):
    type = "Microsoft.Authorization/roleDefinitions"
    location_kind = "none"

    def validate(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        raise ArmError(400, "NotSupported", "The ARM emulator serves the built-in role definitions only.")


class RoleAssignments(ResourceKind):
    type = "Microsoft.Authorization/roleAssignments"
    location_kind = "none"
    properties_schema: ClassVar[Obj] = Obj(
        {
            "roleDefinitionId": required(Str(min_length=1)),
            "principalId": required(Str(format="guid")),
            "principalType": Str(enum=PRINCIPAL_TYPES),
            "description": Str(),
            "condition": Str(),
            "conditionVersion": Str(enum=("2.0",)),
        }
    )

    def check_name(self, name: str) -> None:
        if not GUID.match(name):
            raise ArmError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
            )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        properties = body["properties"]
        match = ROLE_DEFINITION_ID.match(properties["roleDefinitionId"])
        if match is None or match["guid"].lower() not in BUILT_IN_ROLES:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{properties['roleDefinitionId']}' does not exist.",
                target="properties.roleDefinitionId",
            )
        if match["subscription"] and match["subscription"].lower() != ref.subscription.lower():
            raise invalid_property(
                "properties.roleDefinitionId", "belongs to another subscription", "InvalidRoleDefinitionId"
            )
        scope = self.scope_of(ref)
        if scope.count("/") > 2 and ctx.store.get(scope) is None and not blob_container_exists(ctx, scope):
            raise ArmError(
                400,
                "InvalidScope",
                f"The scope '{scope}' of the role assignment does not exist.",
            )
        if properties.get("condition") and not properties.get("conditionVersion"):
            raise invalid_property("properties.conditionVersion", "is required with a condition")
        for resource in ctx.store.all():
            if resource.type != self.type:
                continue
            same = (
                resource.properties["scope"].lower() == scope.lower()
                and resource.properties["principalId"].lower() == properties["principalId"].lower()
                and resource.properties["roleDefinitionId"].rsplit("/", 1)[-1].lower() == match["guid"].lower()
            )
            if resource.key == ref.key and not same:
                raise ArmError(
                    409,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            if resource.key != ref.key and same:
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")

    @staticmethod
    def scope_of(ref: ResourceRef) -> str:
        if ref.scope is not None:
            return ref.scope
        return f"/subscriptions/{ref.subscription}/resourceGroups/{ref.resource_group}"

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        ref_scope = resource.id.rsplit("/providers/Microsoft.Authorization/", 1)[0]
        guid = ROLE_DEFINITION_ID.match(properties["roleDefinitionId"])["guid"]  # type: ignore[index]
        properties["roleDefinitionId"] = (
            f"/subscriptions/{ctx.settings.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid.lower()}"
        )
        properties["scope"] = ref_scope
        properties.setdefault("principalType", "User")
        properties["createdOn"] = previous.properties.get("createdOn") if previous else utc_now()
        properties["updatedOn"] = utc_now()
        properties["createdBy"] = properties["updatedBy"] = "arm-emulator"
