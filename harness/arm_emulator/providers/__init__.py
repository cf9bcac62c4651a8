"""The resource types the emulator serves, by canonical type; each knows its request rules and behaviour."""

from harness.arm_emulator.providers.action_groups import ActionGroups
from harness.arm_emulator.providers.app_insights import Components, WebTests
from harness.arm_emulator.providers.authorization import RoleAssignments, RoleDefinitions
from harness.arm_emulator.providers.base import ActionRequest, Completion, Context, Reply, ResourceKind
from harness.arm_emulator.providers.container_apps import ContainerApps
from harness.arm_emulator.providers.container_instance import ContainerGroups
from harness.arm_emulator.providers.container_registry import Registries
from harness.arm_emulator.providers.key_vault import Vaults
from harness.arm_emulator.providers.log_analytics import Workspaces
from harness.arm_emulator.providers.managed_environments import ManagedEnvironments
from harness.arm_emulator.providers.metric_alerts import MetricAlerts
from harness.arm_emulator.providers.resource_groups import ResourceGroups
from harness.arm_emulator.providers.scheduled_query_rules import ScheduledQueryRules
from harness.arm_emulator.providers.storage import StorageAccounts

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
        ManagedEnvironments(),
        ContainerApps(),
        Vaults(),
    )
}
_BY_LOWER = {resource_type.lower(): kind for resource_type, kind in KINDS.items()}


def kind_of(resource_type: str) -> ResourceKind | None:
    return _BY_LOWER.get(resource_type.lower())


__all__ = ["KINDS", "ActionRequest", "Completion", "Context", "Reply", "ResourceKind", "kind_of"]
