"""Microsoft.Storage/storageAccounts: created through a Location operation (202), with listKeys."""

import base64
import re
import secrets
import uuid
from typing import Any, ClassVar

from ..errors import ArmError
from ..lro import utc_now
from ..routes import ResourceRef
from ..schema import Bool, Obj, Str, required
from ..store import StoredResource
from .base import ActionRequest, Context, Reply, ResourceKind

NAME = re.compile(r"^[a-z0-9]{3,24}$")
SKUS = (
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
    "Standard_GZRS", "Standard_RAGZRS",
)  # fmt: skip
KINDS = ("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage")


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


class StorageAccounts(ResourceKind):
    type = "Microsoft.Storage/storageAccounts"
    put_style = "location"
    delete_style = "sync"
    properties_required = False
    extra_fields: ClassVar[dict[str, Any]] = {
        "sku": required(Obj({"name": required(Str(enum=SKUS))})),
        "kind": required(Str(enum=KINDS)),
        "identity": Obj({"type": Str(enum=("None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned"))}),
    }
    properties_schema: ClassVar[Obj] = Obj(
        {
            "accessTier": Str(enum=("Hot", "Cool", "Cold", "Premium")),
            "allowBlobPublicAccess": Bool(),
            "allowSharedKeyAccess": Bool(),
            "supportsHttpsTrafficOnly": Bool(),
            "minimumTlsVersion": Str(enum=("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3")),
            "publicNetworkAccess": Str(enum=("Enabled", "Disabled", "SecuredByPerimeter")),
            "isHnsEnabled": Bool(),
        }
    )

    def check_name(self, name: str) -> None:
        if not NAME.match(name):
            raise ArmError(
                400,
                "AccountNameInvalid",
                f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
                "characters in length and use numbers and lower-case letters only.",
                target=name,
            )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        for resource in ctx.store.all():
            if resource.type == self.type and resource.name.lower() == ref.name.lower() and resource.key != ref.key:
                raise ArmError(
                    409,
                    "StorageAccountAlreadyTaken",
                    f"The storage account named {ref.name} is already taken.",
                )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        blob = ctx.settings.blob_endpoint.format(name=resource.name)
        properties["primaryEndpoints"] = {
            "blob": blob,
            "queue": f"https://{resource.name}.queue.core.windows.net/",
            "table": f"https://{resource.name}.table.core.windows.net/",
            "file": f"https://{resource.name}.file.core.windows.net/",
        }
        properties["primaryLocation"] = resource.body["location"]
        properties["statusOfPrimary"] = "available"
        properties["creationTime"] = previous.properties.get("creationTime") if previous else utc_now()
        properties.setdefault("accessTier", "Hot")
        properties.setdefault("supportsHttpsTrafficOnly", True)
        properties.setdefault("minimumTlsVersion", "TLS1_2")
        properties["provisioningState"] = "Succeeded" if previous else "Creating"
        resource.body["sku"]["tier"] = "Premium" if resource.body["sku"]["name"].startswith("Premium") else "Standard"
        identity = resource.body.get("identity")
        if identity and "systemassigned" in identity.get("type", "").lower():
            kept = (previous.body.get("identity") or {}) if previous else {}
            identity["principalId"] = kept.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = ctx.settings.tenant_id
        resource.private.setdefault("keys", {"key1": _key(), "key2": _key()})
        resource.private.setdefault("keyCreationTime", utc_now())

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        if request.method == "POST" and request.path == ["listkeys"]:
            created = resource.private["keyCreationTime"]
            keys = [
                {"keyName": name, "value": value, "permissions": "FULL", "creationTime": created}
                for name, value in resource.private["keys"].items()
            ]
            return Reply(200, {"keys": keys})
        return super().action(resource, request, ctx)
