"""Microsoft.OperationalInsights/workspaces: a customerId (the workspace id agents use) and shared keys."""

import base64
import re
import secrets
import uuid
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.schema import Bool, Int, Obj, Str
from harness.arm_emulator.store import StoredResource

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$")
SKUS = ("Free", "Standard", "Premium", "PerNode", "PerGB2018", "Standalone", "CapacityReservation", "LACluster")


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(64)).decode()


class Workspaces(ResourceKind):
    type = "Microsoft.OperationalInsights/workspaces"
    put_style = "async"
    delete_style = "location"
    properties_required = False
    properties_schema: ClassVar[Obj] = Obj(
        {
            "sku": Obj({"name": Str(enum=SKUS)}),
            "retentionInDays": Int(minimum=30, maximum=730),
            "publicNetworkAccessForIngestion": Str(enum=("Enabled", "Disabled", "SecuredByPerimeter")),
            "publicNetworkAccessForQuery": Str(enum=("Enabled", "Disabled", "SecuredByPerimeter")),
            "forceCmkForQuery": Bool(),
            "workspaceCapping": Obj({"dailyQuotaGb": Int(minimum=-1)}),
        }
    )

    def check_name(self, name: str) -> None:
        if not NAME.match(name):
            raise ArmError(
                400,
                "InvalidWorkspaceName",
                f"Workspace name '{name}' is invalid: 4-63 characters, letters, digits and hyphens, "
                "starting and ending with a letter or digit.",
                target="workspaceName",
            )

    def check_semantics(self, ref: Any, body: dict[str, Any], ctx: Context) -> None:
        retention = (body.get("properties") or {}).get("retentionInDays")
        sku = ((body.get("properties") or {}).get("sku") or {}).get("name", "PerGB2018")
        if retention is not None and sku.lower() == "free" and retention != 7:
            raise ArmError(400, "InvalidParameter", "'properties.retentionInDays' must be 7 for the Free sku.")

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties.setdefault("sku", {"name": "PerGB2018"})
        properties.setdefault("retentionInDays", 30)
        properties["customerId"] = previous.properties["customerId"] if previous else str(uuid.uuid4())
        properties["createdDate"] = previous.properties.get("createdDate") if previous else utc_now()
        properties["modifiedDate"] = utc_now()
        properties["provisioningState"] = "Updating" if previous else "Creating"
        resource.private.setdefault("sharedKeys", {"primarySharedKey": _key(), "secondarySharedKey": _key()})

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        if request.method == "POST" and request.path == ["sharedkeys"]:
            return Reply(200, dict(resource.private["sharedKeys"]))
        return super().action(resource, request, ctx)

    @staticmethod
    def by_customer_id(ctx: Context, customer_id: str) -> StoredResource | None:
        for resource in ctx.store.all():
            if (
                resource.type == Workspaces.type
                and resource.properties.get("customerId", "").lower() == customer_id.lower()
            ):
                return resource
        return None
