"""Delete this project's resource groups whose DeleteAfter time has passed: the safety net behind teardown."""

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.names import DELETE_AFTER_TAG, PROJECT_TAG
from provisioning.environments.azure.progress import Progress


def expired(groups: Iterable[Any], now: datetime) -> list[str]:
    """Names of groups tagged as this project's whose DeleteAfter is in the past (unparseable tags are kept)."""
    names = []
    for group in groups:
        tags = group.tags or {}
        if tags.get("project") != PROJECT_TAG or DELETE_AFTER_TAG not in tags:
            continue
        try:
            deadline = datetime.strptime(tags[DELETE_AFTER_TAG], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        if deadline <= now:
            names.append(group.name)
    return names


def sweep(clients: AzureClients, progress: Progress, timeout_s: float, now: datetime | None = None) -> list[str]:
    """Delete every expired group and wait for each; returns their names."""
    resource_groups = clients.resources.resource_groups
    with arm_operation("listing resource groups"):
        groups = list(resource_groups.list(filter=f"tagName eq 'project' and tagValue eq '{PROJECT_TAG}'"))
    names = expired(groups, now or datetime.now(timezone.utc))
    for name in names:
        with arm_operation(f"deleting expired resource group {name}"):
            poller = resource_groups.begin_delete(name)
        progress.wait_for_poller(f"sweeping {name}", poller, timeout_s)
    return names
