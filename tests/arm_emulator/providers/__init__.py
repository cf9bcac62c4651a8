"""The resource types the emulator serves, by canonical type; each knows its request rules and behaviour."""

from .app_insights import Components, WebTests
from .authorization import RoleAssignments, RoleDefinitions
from .base import ActionRequest, Completion, Context, Reply, ResourceKind
from .container_instance import ContainerGroups
from .container_registry import Registries
from .log_analytics import Workspaces
from .monitor import ActionGroups, MetricAlerts, ScheduledQueryRules
from .resource_groups import ResourceGroups
from .storage import StorageAccounts

KINDS: dict[str, ResourceKind] = {
    kind.type: kind
    for kind in (
        ResourceGroups(),
        Registries(),
        Workspaces(),
        Components(),
        WebTests(),
        ContainerGroups(),
        MetricAlerts(),
        ActionGroups(),
        ScheduledQueryRules(),
        StorageAccounts(),
        RoleAssignments(),
        RoleDefinitions(),
    )
}
_BY_LOWER = {resource_type.lower(): kind for resource_type, kind in KINDS.items()}


def kind_of(resource_type: str) -> ResourceKind | None:
    return _BY_LOWER.get(resource_type.lower())


__all__ = ["KINDS", "ActionRequest", "Completion", "Context", "Reply", "ResourceKind", "kind_of"]
