"""Microsoft.App/managedEnvironments: where container apps run, and where their logs go.

A PUT is long-running (201 + Azure-AsyncOperation). `appLogsConfiguration` with destination `log-analytics` must
name an existing Log Analytics workspace by its customerId and one of its shared keys; the key is never echoed.
The environment reports `defaultDomain` (`<name>-<hash>.<location>.azurecontainerapps.io`, the domain of label
hosts) and `staticIp`. Deleting an environment deletes the container apps in it, with their containers and ingress.
"""

import hashlib
from typing import Any, ClassVar

from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.providers.base import Context, ResourceKind
from harness.arm_emulator.providers.container_app_schema import (
    ENVIRONMENT_FIELDS,
    ENVIRONMENT_NAME,
    ENVIRONMENT_PROPERTIES,
)
from harness.arm_emulator.providers.log_analytics import Workspaces
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Obj
from harness.arm_emulator.store import StoredResource

ENVIRONMENTS = "Microsoft.App/managedEnvironments"
CONTAINER_APPS = "Microsoft.App/containerApps"
LOG_DESTINATIONS = ("log-analytics", "azure-monitor", "none")


class ManagedEnvironments(ResourceKind):
    type = ENVIRONMENTS
    put_style = "async"
    delete_style = "location"
    properties_required = False
    extra_fields: ClassVar[dict[str, Any]] = ENVIRONMENT_FIELDS
    properties_schema: ClassVar[Obj] = ENVIRONMENT_PROPERTIES

    def check_name(self, name: str) -> None:
        if not ENVIRONMENT_NAME.match(name):
            raise ArmError(
                400,
                "ManagedEnvironmentInvalidName",
                f"Invalid ManagedEnvironment name '{name}'. A name must consist of lower case alphanumeric "
                "characters or '-', start with an alphabetic character, and end with an alphanumeric character "
                "and cannot have '--'. The length must be between 2 and 60 characters.",
                target="environmentName",
            )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        logs = (body.get("properties") or {}).get("appLogsConfiguration")
        if not logs:
            return
        destination = logs.get("destination")
        if destination is not None and destination.lower() not in LOG_DESTINATIONS:
            raise invalid_property(
                "properties.appLogsConfiguration.destination",
                f"must be one of {', '.join(LOG_DESTINATIONS)} or absent, not {destination!r}",
                "ManagedEnvironmentInvalidAppLogsConfiguration",
            )
        if (destination or "").lower() != "log-analytics":
            return
        config = logs.get("logAnalyticsConfiguration") or {}
        path = "properties.appLogsConfiguration.logAnalyticsConfiguration"
        if not config.get("customerId") or not config.get("sharedKey"):
            raise invalid_property(
                path,
                "needs customerId and sharedKey with destination log-analytics",
                "InvalidLogAnalyticsConfiguration",
            )
        workspace = Workspaces.by_customer_id(ctx, config["customerId"])
        if workspace is None:
            raise ArmError(
                400,
                "ManagedEnvironmentInvalidLogAnalyticsCustomerId",
                f"The Log Analytics workspace with customer id '{config['customerId']}' was not found.",
                target=f"{path}.customerId",
            )
        if config["sharedKey"] not in workspace.private["sharedKeys"].values():
            raise ArmError(
                400,
                "ManagedEnvironmentInvalidLogAnalyticsSharedKey",
                f"The shared key of Log Analytics workspace '{workspace.name}' is not valid.",
                target=f"{path}.sharedKey",
            )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        digest = hashlib.sha256(resource.id.lower().encode()).hexdigest()[:8]
        properties["defaultDomain"] = f"{resource.name}-{digest}.{resource.body['location']}.azurecontainerapps.io"
        properties["staticIp"] = "127.0.0.1"
        properties["zoneRedundant"] = bool(properties.get("zoneRedundant", False))
        properties["provisioningState"] = "Waiting" if previous is None else "UpgradeRequested"
        properties.setdefault("workloadProfiles", [{"name": "Consumption", "workloadProfileType": "Consumption"}])

    def render(self, resource: StoredResource, ctx: Context) -> dict[str, Any]:
        body = super().render(resource, ctx)
        logs = body["properties"].get("appLogsConfiguration") or {}
        (logs.get("logAnalyticsConfiguration") or {}).pop("sharedKey", None)
        return body

    def on_delete(self, resource: StoredResource, ctx: Context) -> None:
        from harness.arm_emulator.providers.container_apps import ContainerApps

        for app in ctx.store.all():
            if app.type == CONTAINER_APPS and ContainerApps.environment_id(app.body).lower() == resource.key:
                ContainerApps().on_delete(app, ctx)
                ctx.store.remove(app.id)
