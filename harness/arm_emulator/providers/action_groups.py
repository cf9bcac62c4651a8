"""Microsoft.Insights/actionGroups: location "Global", groupShortName at most 12 characters, well-formed receivers,
and the notifications an action group sends (action_group_notifications).
"""

from typing import ClassVar

from harness.arm_emulator.providers import action_group_notifications
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.schema import Arr, Bool, Obj, Str, required
from harness.arm_emulator.store import StoredResource

RECEIVER_NAME = required(Str(min_length=1))


class ActionGroups(ResourceKind):
    type = "Microsoft.Insights/actionGroups"
    put_style = "sync"
    location_kind = "global"
    properties_schema: ClassVar[Obj] = Obj(
        {
            "groupShortName": required(Str(min_length=1, max_length=12)),
            "enabled": required(Bool()),
            "emailReceivers": Arr(
                Obj(
                    {
                        "name": RECEIVER_NAME,
                        "emailAddress": required(Str(format="email")),
                        "useCommonAlertSchema": Bool(),
                    }
                ),
                max_items=1000,
                unique_by="name",
            ),
            "smsReceivers": Arr(
                Obj(
                    {
                        "name": RECEIVER_NAME,
                        "countryCode": required(Str(pattern=r"\d{1,3}")),
                        "phoneNumber": required(Str(pattern=r"\d{4,15}")),
                    }
                ),
                unique_by="name",
            ),
            "webhookReceivers": Arr(
                Obj(
                    {
                        "name": RECEIVER_NAME,
                        "serviceUri": required(Str(format="uri")),
                        "useCommonAlertSchema": Bool(),
                        "useAadAuth": Bool(),
                    }
                ),
                unique_by="name",
            ),
            "azureAppPushReceivers": Arr(Obj({"name": RECEIVER_NAME, "emailAddress": required(Str(format="email"))})),
            "armRoleReceivers": Arr(
                Obj({"name": RECEIVER_NAME, "roleId": required(Str(format="guid")), "useCommonAlertSchema": Bool()})
            ),
        },
        code="BadRequest",
    )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        resource.body["location"] = "Global"
        for receiver in resource.properties.get("emailReceivers") or []:
            receiver["status"] = "Enabled"
        for receiver in resource.properties.get("smsReceivers") or []:
            receiver["status"] = "Enabled"

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        reply = action_group_notifications.handle(resource, request, ctx)
        return reply if reply is not None else super().action(resource, request, ctx)
