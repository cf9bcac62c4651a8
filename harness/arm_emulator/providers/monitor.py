"""Microsoft.Insights metricAlerts, actionGroups and scheduledQueryRules, with Azure Monitor's rules:

- metric alerts: location "global", severity 0-4, evaluationFrequency PT1M/PT5M/PT15M/PT30M/PT1H, windowSize
  PT1M..P1D and not shorter than the frequency, scopes that exist, metrics the scope's resource type emits with an
  aggregation that metric supports (unless skipMetricValidation), action groups that exist;
- action groups: location "Global", groupShortName at most 12 characters, well-formed receivers;
- log search alerts: regional, severity 0-4, frequency PT1M..P1D, windowSize not shorter than the frequency.
"""

from datetime import timedelta
from typing import Any, ClassVar

from harness.arm_emulator.errors import invalid_property
from harness.arm_emulator.providers import action_group_notifications
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import (
    Arr,
    Bool,
    Field,
    Int,
    Map,
    Num,
    Obj,
    Schema,
    Str,
    describe,
    parse_duration,
    required,
)
from harness.arm_emulator.store import StoredResource

FREQUENCIES = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H")
WINDOW_SIZES = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D")
AGGREGATIONS = ("Average", "Count", "Minimum", "Maximum", "Total")
STATIC_OPERATORS = ("Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")
DYNAMIC_OPERATORS = ("GreaterThan", "LessThan", "GreaterOrLessThan")

# Metrics the emulator knows per resource type, with the aggregations each supports (None: any).
METRICS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "microsoft.containerinstance/containergroups": {
        "CpuUsage": ("Average", "Minimum", "Maximum"),
        "MemoryUsage": ("Average", "Minimum", "Maximum"),
        "NetworkBytesReceivedPerSecond": ("Average", "Minimum", "Maximum"),
        "NetworkBytesTransmittedPerSecond": ("Average", "Minimum", "Maximum"),
    },
    "microsoft.insights/components": {
        "availabilityResults/availabilityPercentage": ("Average", "Minimum", "Maximum", "Count"),
        "availabilityResults/count": ("Count", "Average", "Total"),
        "availabilityResults/duration": ("Average", "Minimum", "Maximum", "Count", "Total"),
        "requests/count": ("Count",),
        "requests/failed": ("Count",),
        "requests/duration": ("Average", "Minimum", "Maximum", "Count", "Total"),
        "requests/rate": ("Average",),
        "exceptions/count": ("Count",),
        "exceptions/server": ("Count",),
        "dependencies/count": ("Count",),
        "dependencies/failed": ("Count",),
        "dependencies/duration": ("Average", "Minimum", "Maximum", "Count", "Total"),
        "performanceCounters/processCpuPercentage": ("Average", "Minimum", "Maximum"),
        "performanceCounters/memoryAvailableBytes": ("Average", "Minimum", "Maximum"),
    },
}

DIMENSION = Obj(
    {
        "name": required(Str(min_length=1)),
        "operator": required(Str(enum=("Include", "Exclude"))),
        "values": required(Arr(Str(), min_items=1)),
    }
)
_CRITERION_COMMON: dict[str, Field | Schema] = {
    "name": required(Str(min_length=1)),
    "metricName": required(Str(min_length=1)),
    "metricNamespace": Str(),
    "timeAggregation": required(Str(enum=AGGREGATIONS)),
    "dimensions": Arr(DIMENSION),
    "skipMetricValidation": Bool(),
}
CRITERION = Obj(
    {"criterionType": required(Str())},
    discriminator="criterionType",
    variants={
        "StaticThresholdCriterion": Obj(
            {**_CRITERION_COMMON, "operator": required(Str(enum=STATIC_OPERATORS)), "threshold": required(Num())}
        ),
        "DynamicThresholdCriterion": Obj(
            {
                **_CRITERION_COMMON,
                "operator": required(Str(enum=DYNAMIC_OPERATORS)),
                "alertSensitivity": required(Str(enum=("Low", "Medium", "High"))),
                "failingPeriods": required(
                    Obj(
                        {
                            "numberOfEvaluationPeriods": required(Int(minimum=1, maximum=6)),
                            "minFailingPeriodsToAlert": required(Int(minimum=1, maximum=6)),
                        }
                    )
                ),
                "ignoreDataBefore": Str(),
            }
        ),
    },
)
METRIC_ALERT_CRITERIA = Obj(
    {"odata.type": required(Str())},
    discriminator="odata.type",
    variants={
        "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria": Obj(
            {"allOf": required(Arr(CRITERION, min_items=1, max_items=5, unique_by="name"))}
        ),
        "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria": Obj(
            {"allOf": required(Arr(CRITERION, min_items=1, max_items=5, unique_by="name"))}
        ),
        "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria": Obj(
            {
                "webTestId": required(Str(format="resource_id")),
                "componentId": required(Str(format="resource_id")),
                "failedLocationCount": required(Num(minimum=1)),
            }
        ),
    },
)
ACTIONS = Arr(Obj({"actionGroupId": required(Str(format="resource_id")), "webHookProperties": Map(Str())}))


def _duration(value: str) -> timedelta:
    duration = parse_duration(value)
    assert duration is not None, value  # the schema has already checked the format
    return duration


def _check_scopes_exist(scopes: list[str], ctx: Context, path: str) -> list[StoredResource]:
    found = []
    for index, scope in enumerate(scopes):
        resource = ctx.store.get(scope)
        if resource is None:
            raise invalid_property(f"{path}[{index}]", f"names a resource that does not exist: {scope}", "BadRequest")
        found.append(resource)
    return found


def _check_action_groups(group_ids: list[str], ctx: Context, path: str) -> None:
    for index, group_id in enumerate(group_ids):
        if ctx.existing(group_id, ActionGroups.type) is None:
            raise invalid_property(
                f"{path}[{index}]", f"names an action group that does not exist: {group_id}", "BadRequest"
            )


class MetricAlerts(ResourceKind):
    type = "Microsoft.Insights/metricAlerts"
    put_style = "sync"
    create_status = 200  # the SDK accepts only 200 for metric_alerts.create_or_update
    location_kind = "global"
    properties_schema: ClassVar[Obj] = Obj(
        {
            "description": Str(),
            "severity": required(Int(minimum=0, maximum=4)),
            "enabled": required(Bool()),
            "scopes": required(Arr(Str(format="resource_id"), min_items=1)),
            "evaluationFrequency": required(Str(durations=FREQUENCIES)),
            "windowSize": required(Str(durations=WINDOW_SIZES)),
            "targetResourceType": Str(),
            "targetResourceRegion": Str(),
            "criteria": required(METRIC_ALERT_CRITERIA),
            "autoMitigate": Bool(),
            "actions": ACTIONS,
        },
        code="BadRequest",
    )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        properties = body["properties"]
        if _duration(properties["windowSize"]) < _duration(properties["evaluationFrequency"]):
            raise invalid_property(
                "properties.windowSize",
                f"({properties['windowSize']}) must not be shorter than properties.evaluationFrequency "
                f"({properties['evaluationFrequency']})",
                "BadRequest",
            )
        scopes = _check_scopes_exist(properties["scopes"], ctx, "properties.scopes")
        criteria = properties["criteria"]
        kind = criteria["odata.type"].rsplit(".", 1)[-1].lower()
        if kind == "singleresourcemultiplemetriccriteria":
            if len(scopes) != 1:
                raise invalid_property(
                    "properties.scopes", "must name exactly one resource for single-resource criteria", "BadRequest"
                )
            for index, criterion in enumerate(criteria["allOf"]):
                if criterion["criterionType"].lower() != "staticthresholdcriterion":
                    raise invalid_property(
                        f"properties.criteria.allOf[{index}].criterionType",
                        "must be StaticThresholdCriterion with single-resource criteria "
                        "(dynamic thresholds need MultipleResourceMultipleMetricCriteria)",
                        "BadRequest",
                    )
        if kind in ("singleresourcemultiplemetriccriteria", "multipleresourcemultiplemetriccriteria"):
            types = {resource.type.lower() for resource in scopes}
            if len(types) > 1:
                raise invalid_property("properties.scopes", "must all be of one resource type", "BadRequest")
            if len(scopes) > 1 and not (
                properties.get("targetResourceType") and properties.get("targetResourceRegion")
            ):
                raise invalid_property(
                    "properties.targetResourceType",
                    "and targetResourceRegion are required with several scopes",
                    "BadRequest",
                )
            for index, criterion in enumerate(criteria["allOf"]):
                self._check_metric(criterion, scopes[0].type, f"properties.criteria.allOf[{index}]")
        else:
            self._check_availability(criteria, properties["scopes"], ctx)
        _check_action_groups(
            [action["actionGroupId"] for action in properties.get("actions") or []], ctx, "properties.actions"
        )

    @staticmethod
    def _check_metric(criterion: dict[str, Any], scope_type: str, path: str) -> None:
        namespace = criterion.get("metricNamespace")
        if namespace and namespace.lower() != scope_type.lower():
            raise invalid_property(
                f"{path}.metricNamespace",
                f"must be {scope_type} for this scope, not {describe(namespace)}",
                "BadRequest",
            )
        catalogue = METRICS.get(scope_type.lower())
        if catalogue is None or criterion.get("skipMetricValidation"):
            return
        by_lower = {name.lower(): (name, aggregations) for name, aggregations in catalogue.items()}
        known = by_lower.get(criterion["metricName"].lower())
        if known is None:
            raise invalid_property(
                f"{path}.metricName",
                f"names a metric {scope_type} does not emit: {describe(criterion['metricName'])}; "
                f"its metrics are {', '.join(catalogue)}",
                "BadRequest",
            )
        name, aggregations = known
        if aggregations is not None and criterion["timeAggregation"].lower() not in {a.lower() for a in aggregations}:
            raise invalid_property(
                f"{path}.timeAggregation",
                f"{describe(criterion['timeAggregation'])} is not supported by {name}; "
                f"use one of {', '.join(aggregations)}",
                "BadRequest",
            )

    @staticmethod
    def _check_availability(criteria: dict[str, Any], scopes: list[str], ctx: Context) -> None:
        lowered = {scope.lower() for scope in scopes}
        for key, expected_type in (("webTestId", WebTestType), ("componentId", ComponentType)):
            if criteria[key].lower() not in lowered:
                raise invalid_property(
                    f"properties.criteria.{key}", "must also be one of properties.scopes", "BadRequest"
                )
            if ctx.existing(criteria[key], expected_type) is None:
                raise invalid_property(f"properties.criteria.{key}", f"names no existing {expected_type}", "BadRequest")
        web_test = ctx.existing(criteria["webTestId"], WebTestType)
        assert web_test is not None
        locations = len(web_test.properties.get("Locations") or [])
        if criteria["failedLocationCount"] > locations:
            raise invalid_property(
                "properties.criteria.failedLocationCount",
                f"({criteria['failedLocationCount']}) exceeds the web test's {locations} location(s)",
                "BadRequest",
            )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        resource.body["location"] = "global"
        resource.properties.setdefault("autoMitigate", True)
        resource.properties.setdefault("actions", [])
        resource.properties["isMigrated"] = False


WebTestType = "Microsoft.Insights/webtests"
ComponentType = "Microsoft.Insights/components"

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


LOG_CONDITION = Obj(
    {
        "query": required(Str(min_length=1)),
        "timeAggregation": required(Str(enum=AGGREGATIONS)),
        "metricMeasureColumn": Str(),
        "resourceIdColumn": Str(),
        "dimensions": Arr(DIMENSION),
        "operator": required(Str(enum=STATIC_OPERATORS)),
        "threshold": required(Num()),
        "failingPeriods": Obj(
            {
                "numberOfEvaluationPeriods": Int(minimum=1, maximum=6),
                "minFailingPeriodsToAlert": Int(minimum=1, maximum=6),
            }
        ),
    },
    code="BadRequest",
)


class ScheduledQueryRules(ResourceKind):
    type = "Microsoft.Insights/scheduledQueryRules"
    put_style = "sync"
    extra_fields: ClassVar[dict[str, Any]] = {"kind": Str(enum=("LogAlert", "LogToMetric", "SimpleLogAlert"))}
    properties_schema: ClassVar[Obj] = Obj(
        {
            "displayName": Str(),
            "description": Str(),
            "severity": Int(minimum=0, maximum=4),
            "enabled": Bool(),
            "scopes": required(Arr(Str(format="resource_id"), min_items=1, max_items=1)),
            "evaluationFrequency": Str(format="duration"),
            "windowSize": Str(format="duration"),
            "targetResourceTypes": Arr(Str()),
            "criteria": required(Obj({"allOf": required(Arr(LOG_CONDITION, min_items=1))})),
            "muteActionsDuration": Str(format="duration"),
            "actions": Obj({"actionGroups": Arr(Str(format="resource_id")), "customProperties": Map(Str())}),
            "autoMitigate": Bool(),
            "skipQueryValidation": Bool(),
        },
        code="BadRequest",
    )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        properties = body["properties"]
        is_log_alert = (body.get("kind") or "LogAlert").lower() == "logalert"
        if is_log_alert:
            for name in ("severity", "evaluationFrequency", "windowSize"):
                if properties.get(name) is None:
                    raise invalid_property(f"properties.{name}", "is required for a log alert", "BadRequest")
        if properties.get("evaluationFrequency") and properties.get("windowSize"):
            frequency = _duration(properties["evaluationFrequency"])
            window = _duration(properties["windowSize"])
            if not timedelta(minutes=1) <= frequency <= timedelta(days=1):
                raise invalid_property("properties.evaluationFrequency", "must be between PT1M and P1D", "BadRequest")
            if not timedelta(minutes=1) <= window <= timedelta(days=2):
                raise invalid_property("properties.windowSize", "must be between PT1M and P2D", "BadRequest")
            if window < frequency:
                raise invalid_property(
                    "properties.windowSize", "must not be shorter than properties.evaluationFrequency", "BadRequest"
                )
        for index, condition in enumerate(properties["criteria"]["allOf"]):
            path = f"properties.criteria.allOf[{index}]"
            if condition["timeAggregation"].lower() != "count" and not condition.get("metricMeasureColumn"):
                raise invalid_property(
                    f"{path}.metricMeasureColumn", "is required unless timeAggregation is Count", "BadRequest"
                )
            periods = condition.get("failingPeriods") or {}
            if periods.get("minFailingPeriodsToAlert", 1) > periods.get("numberOfEvaluationPeriods", 1):
                raise invalid_property(
                    f"{path}.failingPeriods.minFailingPeriodsToAlert",
                    "must not exceed numberOfEvaluationPeriods",
                    "BadRequest",
                )
        _check_scopes_exist(properties["scopes"], ctx, "properties.scopes")
        _check_action_groups(
            (properties.get("actions") or {}).get("actionGroups") or [], ctx, "properties.actions.actionGroups"
        )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        resource.body.setdefault("kind", "LogAlert")
        resource.properties.setdefault("enabled", True)
        resource.properties["createdWithApiVersion"] = "2023-12-01"
        resource.properties["isLegacyLogAnalyticsRule"] = False
