"""Microsoft.Insights/scheduledQueryRules (log search alerts): regional, severity 0-4, frequency PT1M..P1D,
windowSize not shorter than the frequency, a measure column unless the aggregation is Count, scopes and action
groups that exist.
"""

from datetime import timedelta
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
from harness.arm_emulator.schema import Arr, Bool, Int, Map, Num, Obj, Str, required
from harness.arm_emulator.store import StoredResource

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
            frequency = duration(properties["evaluationFrequency"])
            window = duration(properties["windowSize"])
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
        check_scopes_exist(properties["scopes"], ctx, "properties.scopes")
        check_action_groups(
            (properties.get("actions") or {}).get("actionGroups") or [], ctx, "properties.actions.actionGroups"
        )

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        resource.body.setdefault("kind", "LogAlert")
        resource.properties.setdefault("enabled", True)
        resource.properties["createdWithApiVersion"] = "2023-12-01"
        resource.properties["isLegacyLogAnalyticsRule"] = False
