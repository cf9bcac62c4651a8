"""Microsoft.ContainerRegistry/registries: the local docker-registry is every registry's login server.

The docker-registry itself has no authentication; the emulator plays ACR's part when a container group pulls: the
group's imageRegistryCredentials must match a registry resource's admin credentials (see container_group_checks).
"""

import re
import secrets
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.schema import Bool, Obj, Str, required
from harness.arm_emulator.store import StoredResource

NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")
PASSWORD_NAMES = ("password", "password2")


class Registries(ResourceKind):
    type = "Microsoft.ContainerRegistry/registries"
    put_style = "async"
    delete_style = "location"
    properties_required = False
    extra_fields: ClassVar[dict[str, Any]] = {
        "sku": required(Obj({"name": required(Str(enum=("Basic", "Standard", "Premium")))})),
    }
    properties_schema: ClassVar[Obj] = Obj(
        {
            "adminUserEnabled": Bool(),
            "anonymousPullEnabled": Bool(),
            "dataEndpointEnabled": Bool(),
            "publicNetworkAccess": Str(enum=("Enabled", "Disabled")),
            "zoneRedundancy": Str(enum=("Enabled", "Disabled")),
            "networkRuleBypassOptions": Str(enum=("AzureServices", "None")),
        }
    )

    def check_name(self, name: str) -> None:
        if not NAME.match(name):
            raise ArmError(
                400,
                "InvalidResourceName",
                f"Registry name '{name}' is invalid: registry names may contain only alpha numeric characters and "
                "must be between 5 and 50 characters.",
                target="registryName",
            )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties["loginServer"] = ctx.settings.registry or f"{resource.name.lower()}.azurecr.io"
        properties["creationDate"] = previous.properties.get("creationDate") if previous else utc_now()
        properties.setdefault("adminUserEnabled", False)
        properties.setdefault("anonymousPullEnabled", False)
        properties.setdefault("publicNetworkAccess", "Enabled")
        properties["provisioningState"] = "Updating" if previous else "Creating"
        resource.body["sku"]["tier"] = resource.body["sku"]["name"]
        resource.private.setdefault("passwords", {name: secrets.token_urlsafe(24) for name in PASSWORD_NAMES})

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        if request.method == "POST" and request.path == ["listcredentials"]:
            return Reply(200, self.credentials(resource))
        if request.method == "POST" and request.path == ["regeneratecredential"]:
            which = request.body.get("name") if isinstance(request.body, dict) else None
            if which not in PASSWORD_NAMES:
                raise ArmError(
                    400, "InvalidRequestContent", "'name' must be one of password, password2.", target="name"
                )
            resource.private["passwords"][which] = secrets.token_urlsafe(24)
            return Reply(200, self.credentials(resource))
        return super().action(resource, request, ctx)

    @staticmethod
    def credentials(resource: StoredResource) -> dict[str, Any]:
        if not resource.properties.get("adminUserEnabled"):
            raise ArmError(
                400,
                "BadRequest",
                f"Admin user is disabled on registry '{resource.name}'. "
                "Set properties.adminUserEnabled to true to list its credentials.",
            )
        return {
            "username": resource.name,
            "passwords": [{"name": name, "value": resource.private["passwords"][name]} for name in PASSWORD_NAMES],
        }

    @staticmethod
    def accepts(resource: StoredResource, username: str | None, password: str | None) -> bool:
        """Whether ACR would let these credentials pull (admin user, or anonymous pull)."""
        if resource.properties.get("anonymousPullEnabled"):
            return True
        if not resource.properties.get("adminUserEnabled") or username is None or password is None:
            return False
        return username.lower() == resource.name.lower() and password in resource.private["passwords"].values()
