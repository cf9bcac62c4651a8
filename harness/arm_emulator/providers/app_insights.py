"""Microsoft.Insights/components (workspace-based Application Insights) and Microsoft.Insights/webtests."""

import uuid
from typing import Any, ClassVar

from harness.arm_emulator.errors import invalid_property
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.base import Context, ResourceKind
from harness.arm_emulator.providers.log_analytics import Workspaces
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Arr, Bool, Int, Num, Obj, Str, required
from harness.arm_emulator.store import StoredResource

COMPONENT_KINDS = ("web", "ios", "other", "store", "java", "phone")
# Availability test locations (the "Id" values the portal uses).
WEB_TEST_LOCATIONS = (
    "us-va-ash-azr", "us-tx-sn1-azr", "us-il-ch1-azr", "us-ca-sjc-azr", "us-fl-mia-edge", "emea-nl-ams-azr",
    "emea-gb-db3-azr", "emea-fr-pra-edge", "emea-ru-msa-edge", "emea-se-sto-edge", "emea-ch-zrh-edge",
    "apac-sg-sin-azr", "apac-hk-hkn-azr", "apac-jp-kaw-edge", "latam-br-gru-edge", "emea-au-syd-edge",
)  # fmt: skip


class Components(ResourceKind):
    type = "Microsoft.Insights/components"
    put_style = "sync"
    create_status = 200  # the SDK accepts only 200 for components.create_or_update
    extra_fields: ClassVar[dict[str, Any]] = {"kind": required(Str(enum=COMPONENT_KINDS)), "etag": Str()}
    properties_schema: ClassVar[Obj] = Obj(
        {
            "Application_Type": required(Str(enum=("web", "other"))),
            "Flow_Type": Str(enum=("Bluefield",)),
            "Request_Source": Str(enum=("rest",)),
            "WorkspaceResourceId": required(Str(format="resource_id"), code="BadRequest"),
            "RetentionInDays": Int(minimum=30, maximum=730),
            "SamplingPercentage": Num(minimum=0, maximum=100),
            "DisableIpMasking": Bool(),
            "DisableLocalAuth": Bool(),
            "ImmediatePurgeDataOn30Days": Bool(),
            "IngestionMode": Str(
                enum=("ApplicationInsights", "ApplicationInsightsWithDiagnosticSettings", "LogAnalytics")
            ),
            "publicNetworkAccessForIngestion": Str(enum=("Enabled", "Disabled")),
            "publicNetworkAccessForQuery": Str(enum=("Enabled", "Disabled")),
        }
    )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        workspace_id = body["properties"]["WorkspaceResourceId"]
        if ctx.existing(workspace_id, Workspaces.type) is None:
            raise invalid_property(
                "properties.WorkspaceResourceId",
                f"names a Log Analytics workspace that does not exist: {workspace_id}",
                "BadRequest",
            )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        kept = previous.properties if previous else {}
        instrumentation_key = kept.get("InstrumentationKey") or str(uuid.uuid4())
        app_id = kept.get("AppId") or str(uuid.uuid4())
        location = resource.body["location"]
        properties.update(
            {
                "ApplicationId": resource.name,
                "AppId": app_id,
                "Name": resource.name,
                "InstrumentationKey": instrumentation_key,
                "ConnectionString": (
                    f"InstrumentationKey={instrumentation_key};"
                    f"IngestionEndpoint=https://{location}-0.in.applicationinsights.azure.com/;"
                    f"LiveEndpoint=https://{location}.livediagnostics.monitor.azure.com/;ApplicationId={app_id}"
                ),
                "CreationDate": kept.get("CreationDate") or utc_now(),
                "TenantId": ctx.settings.subscription_id,
                "provisioningState": "Succeeded",
            }
        )
        properties.setdefault("IngestionMode", "LogAnalytics")
        properties.setdefault("RetentionInDays", 90)
        properties.setdefault("publicNetworkAccessForIngestion", "Enabled")
        properties.setdefault("publicNetworkAccessForQuery", "Enabled")


class WebTests(ResourceKind):
    type = "Microsoft.Insights/webtests"
    put_style = "sync"
    create_status = 200  # the SDK accepts only 200 for web_tests.create_or_update
    extra_fields: ClassVar[dict[str, Any]] = {"kind": Str(enum=("ping", "multistep", "standard"))}
    properties_schema: ClassVar[Obj] = Obj(
        {
            "SyntheticMonitorId": required(Str(min_length=1)),
            "Name": required(Str(min_length=1)),
            "Description": Str(),
            "Enabled": Bool(),
            "Frequency": Int(minimum=300, maximum=900),
            "Timeout": Int(minimum=30, maximum=120),
            "Kind": required(Str(enum=("ping", "multistep", "standard"))),
            "RetryEnabled": Bool(),
            "Locations": required(
                Arr(Obj({"Id": required(Str(enum=WEB_TEST_LOCATIONS))}), min_items=1, max_items=16, unique_by="Id")
            ),
            "Configuration": Obj({"WebTest": Str()}),
            "Request": Obj(
                {
                    "RequestUrl": Str(format="uri"),
                    "HttpVerb": Str(enum=("GET", "POST", "HEAD")),
                    "RequestBody": Str(),
                    "Headers": Arr(Obj({"key": Str(), "value": Str()})),
                    "ParseDependentRequests": Bool(),
                    "FollowRedirects": Bool(),
                }
            ),
            "ValidationRules": Obj(
                {
                    "ExpectedHttpStatusCode": Int(minimum=0, maximum=599),
                    "IgnoreHttpStatusCode": Bool(),
                    "SSLCheck": Bool(),
                    "SSLCertRemainingLifetimeCheck": Int(minimum=1, maximum=365),
                    "ContentValidation": Obj({"ContentMatch": Str(), "IgnoreCase": Bool(), "PassIfTextFound": Bool()}),
                }
            ),
        }
    )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        properties = body["properties"]
        frequency = properties.get("Frequency", 300)
        if frequency not in (300, 600, 900):
            raise invalid_property(
                "properties.Frequency", f"must be 300, 600 or 900 seconds, not {frequency}", "BadRequest"
            )
        timeout = properties.get("Timeout", 30)
        if timeout not in (30, 60, 90, 120) or timeout > frequency:
            raise invalid_property(
                "properties.Timeout",
                f"must be 30, 60, 90 or 120 seconds and not above Frequency, not {timeout}",
                "BadRequest",
            )
        kind = properties["Kind"].lower()
        if kind == "standard" and not (properties.get("Request") or {}).get("RequestUrl"):
            raise invalid_property("properties.Request.RequestUrl", "is required for a standard test", "BadRequest")
        if kind in ("ping", "multistep") and not (properties.get("Configuration") or {}).get("WebTest"):
            raise invalid_property("properties.Configuration.WebTest", f"is required for a {kind} test", "BadRequest")
        links = [key for key in (body.get("tags") or {}) if key.lower().startswith("hidden-link:")]
        if not links:
            raise invalid_property(
                "tags",
                "must link the test to its Application Insights component: 'hidden-link:<component id>': 'Resource'",
                "BadRequest",
            )
        component_id = links[0].split(":", 1)[1]
        if ctx.existing(component_id, Components.type) is None:
            raise invalid_property(
                f"tags.{links[0]}",
                f"names an Application Insights component that does not exist: {component_id}",
                "BadRequest",
            )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties.setdefault("Enabled", False)
        properties.setdefault("Frequency", 300)
        properties.setdefault("Timeout", 30)
        properties["provisioningState"] = "Succeeded"
