"""Microsoft.Storage/storageAccounts: created through a Location operation (202), with listKeys and blob containers.

Blob containers (`blobServices/default/containers/{name}`) live inside their account: deleting the account (or its
resource group) deletes them, as on Azure.
"""

import base64
import re
import secrets
import uuid
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Bool, Obj, Str, required
from harness.arm_emulator.store import StoredResource

NAME = re.compile(r"^[a-z0-9]{3,24}$")
CONTAINER_NAME = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
CONTAINER_TYPE = "Microsoft.Storage/storageAccounts/blobServices/containers"
PUBLIC_ACCESS = ("None", "Blob", "Container")
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
    sub_path_methods = ("GET", "POST", "PUT", "DELETE")
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
        path = request.path
        if len(path) == 4 and path[:3] == ["blobservices", "default", "containers"]:
            return self._container(resource, request, ctx)
        if request.method in ("PUT", "DELETE"):
            raise ArmError(405, "MethodNotAllowed", f"'{'/'.join(request.sub_path)}' answers GET or POST only.")
        return super().action(resource, request, ctx)

    def _container(self, account: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        """GET, PUT (create or update) and DELETE of one blob container; its body as the SDK reads it."""
        name = request.sub_path[3]
        with ctx.store.locked():
            containers: dict[str, dict[str, Any]] = account.private.setdefault("containers", {})
            existing = containers.get(name.lower())
            if request.method == "GET":
                if existing is None:
                    raise ArmError(404, "ContainerNotFound", "The specified container does not exist.")
                return Reply(200, existing)
            if request.method == "DELETE":
                containers.pop(name.lower(), None)
                return Reply(200 if existing else 204)
            if request.method != "PUT":
                raise ArmError(405, "MethodNotAllowed", "A blob container answers GET, PUT or DELETE.")
            body = _container_body(account, name, request.body, existing)
            containers[name.lower()] = body
            return Reply(200 if existing else 201, body)


def blob_container_exists(ctx: Context, resource_id: str) -> bool:
    """Whether `resource_id` names a blob container of an account the emulator holds (a role assignment's scope
    may be one: containers live inside their account, not in the store)."""
    account_id, separator, name = resource_id.lower().rpartition("/blobservices/default/containers/")
    account = ctx.store.get(account_id) if separator and "/" not in name else None
    return account is not None and name in account.private.get("containers", {})


def _container_body(
    account: StoredResource, name: str, request: Any, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """Azure's checks on a container PUT (name rules, public access the account allows), and the stored body."""
    if not CONTAINER_NAME.match(name):
        raise ArmError(
            400,
            "ContainerOperationFailure",
            f"The specified resource name '{name}' contains invalid characters or is not 3-63 characters long.",
        )
    properties = dict((request or {}).get("properties") or {})
    access = properties.get("publicAccess", "None")
    if access not in PUBLIC_ACCESS:
        raise invalid_property("properties.publicAccess", f"must be one of {', '.join(PUBLIC_ACCESS)}")
    if access != "None" and account.properties.get("allowBlobPublicAccess") is False:
        raise ArmError(409, "PublicAccessNotPermitted", "Public access is not permitted on this storage account.")
    created = (existing or {}).get("properties", {}).get("lastModifiedTime") or utc_now()
    return {
        "id": f"{account.id}/blobServices/default/containers/{name}",
        "name": name,
        "type": CONTAINER_TYPE,
        "etag": f'"0x{secrets.token_hex(8).upper()}"',
        "properties": {
            "publicAccess": access,
            "metadata": properties.get("metadata") or {},
            "lastModifiedTime": created,
            "leaseStatus": "Unlocked",
            "leaseState": "Available",
            "hasImmutabilityPolicy": False,
            "hasLegalHold": False,
            "deleted": False,
        },
    }
