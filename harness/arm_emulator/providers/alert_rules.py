"""What Azure Monitor's metric alerts and log search alerts share: dimensions, aggregations, durations, and the
checks that the resources and action groups a rule names exist.
"""

from datetime import timedelta

from harness.arm_emulator.errors import invalid_property
from harness.arm_emulator.providers.action_groups import ActionGroups
from harness.arm_emulator.providers.base import Context
from harness.arm_emulator.schema import Arr, Obj, Str, parse_duration, required
from harness.arm_emulator.store import StoredResource

AGGREGATIONS = ("Average", "Count", "Minimum", "Maximum", "Total")
STATIC_OPERATORS = ("Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")

DIMENSION = Obj(
    {
        "name": required(Str(min_length=1)),
        "operator": required(Str(enum=("Include", "Exclude"))),
        "values": required(Arr(Str(), min_items=1)),
    }
)


def duration(value: str) -> timedelta:
    parsed = parse_duration(value)
    assert parsed is not None, value  # the schema has already checked the format
    return parsed


def check_scopes_exist(scopes: list[str], ctx: Context, path: str) -> list[StoredResource]:
    found = []
    for index, scope in enumerate(scopes):
        resource = ctx.store.get(scope)
        if resource is None:
            raise invalid_property(f"{path}[{index}]", f"names a resource that does not exist: {scope}", "BadRequest")
        found.append(resource)
    return found


def check_action_groups(group_ids: list[str], ctx: Context, path: str) -> None:
    for index, group_id in enumerate(group_ids):
        if ctx.existing(group_id, ActionGroups.type) is None:
            raise invalid_property(
                f"{path}[{index}]", f"names an action group that does not exist: {group_id}", "BadRequest"
            )
