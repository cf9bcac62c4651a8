"""Microsoft.Insights/metricAlerts, with Azure Monitor's rules: location "global", severity 0-4, evaluationFrequency
PT1M/PT5M/PT15M/PT30M/PT1H, windowSize PT1M..P1D and not shorter than the frequency, scopes that exist, metrics the
scope's resource type emits with an aggregation that metric supports (unless skipMetricValidation), action groups
that exist.
"""

from typing import Any, ClassVar

from harness.arm_emulator.errors import invalid_property
from harness.arm_emulator.providers.alert_rules import (
    AGGREGATIONS,
    DIMENSION,
    STATIC_OPERATORS,
    check_action_groups,
    check_scopes_exist,
    duration,
)
from harness.arm_emulator.providers.base import Context, ResourceKind
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Arr, Bool, Field, Int, Map, Num, Obj, Schema, Str, describe, required
from harness.arm_emulator.store import StoredResource

FREQUENCIES = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H")
WINDOW_SIZES = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D")
DYNAMIC_OPERATORS = ("GreaterThan", "LessThan", "GreaterOrLessThan")
WebTestType = "Microsoft.Insights/webtests"
ComponentType = "Microsoft.Insights/components"

# Metrics the emulator knows per resource type, with the aggregations each supports (None: any).
METRICS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "microsoft.containerinstance/containergroups": {
        "CpuUsage": ("Average", "Minimum", "Maximum"),
        "MemoryUsage": ("Average", "Minimum", "Maximum"),
        "NetworkBytesReceivedPerSecond": ("Average", "Minimum", "Maximum"),
        "NetworkBytesTransmittedPerSecond": ("Average", "Minimum", "Maximum"),
    },
    "microsoft.app/containerapps": {
        "Replicas": ("Average", "Minimum", "Maximum", "Total"),
        "Requests": ("Total", "Count", "Average", "Minimum", "Maximum"),
        "RestartCount": ("Total", "Average", "Minimum", "Maximum"),
        "RxBytes": ("Total", "Average", "Minimum", "Maximum"),
        "TxBytes": ("Total", "Average", "Minimum", "Maximum"),
        "UsageNanoCores": ("Average", "Minimum", "Maximum"),
        "WorkingSetBytes": ("Average", "Minimum", "Maximum"),
        "CpuPercentage": ("Average", "Minimum", "Maximum"),
        "MemoryPercentage": ("Average", "Minimum", "Maximum"),
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
        if duration(properties["windowSize"]) < duration(properties["evaluationFrequency"]):
            raise invalid_property(
                "properties.windowSize",
                f"({properties['windowSize']}) must not be shorter than properties.evaluationFrequency "
                f"({properties['evaluationFrequency']})",
                "BadRequest",
            )
        scopes = check_scopes_exist(properties["scopes"], ctx, "properties.scopes")
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
        check_action_groups(
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
