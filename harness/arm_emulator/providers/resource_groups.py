"""Microsoft.Resources/resourceGroups: synchronous PUT, DELETE as a Location operation that deletes its contents."""

import re
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.providers.base import Context, ResourceKind
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Obj, Str
from harness.arm_emulator.store import StoredResource

NAME = re.compile(r"^[-\w._()]{1,90}$")


class ResourceGroups(ResourceKind):
    type = "Microsoft.Resources/resourceGroups"
    put_style = "sync"
    delete_style = "location"
    properties_required = False
    properties_schema: ClassVar[Obj] = Obj({})
    extra_fields: ClassVar[dict[str, Any]] = {"managedBy": Str()}

    def check_name(self, name: str) -> None:
        if not NAME.match(name) or name.endswith("."):
            raise ArmError(
                400,
                "InvalidResourceGroupName",
                f"Resource group name '{name}' is invalid. It can contain up to 90 characters: letters, digits, "
                "underscores, parentheses, hyphens and periods (not at the end).",
                target="resourceGroupName",
            )

    def validate(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        try:
            super().validate(ref, body, ctx)
        except ArmError as error:
            if error.code == "LocationNotAvailableForResourceType":
                raise ArmError(
                    400,
                    "LocationNotAvailableForResourceGroup",
                    f"The provided location '{body.get('location')}' is not available for resource group.",
                    target="location",
                ) from None
            raise

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        resource.properties["provisioningState"] = "Succeeded"
        if previous is not None and previous.body.get("location") != resource.body.get("location"):
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{resource.body.get('location')}'. The Resource group already "
                f"exists in location '{previous.body.get('location')}'.",
            )
