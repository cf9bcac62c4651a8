"""What a container group's instance view says: crashed, stopped, or where it is on its way to running."""

import json
from typing import Any

from provisioning.environments.azure.container_group_spec import CONTAINER_NAME
from provisioning.errors import DeploymentError


def raise_if_crashed(view: Any) -> None:
    """A container that ended, or that restarted after a non-zero exit (ACI's CrashLoopBackOff), has failed."""
    if view is None:
        return
    current, previous = view.current_state, view.previous_state
    if current is not None and current.state == "Terminated":
        raise DeploymentError(
            f"container {CONTAINER_NAME} terminated (exit {current.exit_code}: {current.detail_status})"
        )
    if view.restart_count and previous is not None and previous.state == "Terminated" and previous.exit_code != 0:
        raise DeploymentError(
            f"container {CONTAINER_NAME} crashed and restarted {view.restart_count} time(s) "
            f"(exit {previous.exit_code}: {previous.detail_status})"
        )


def is_stopped(group: Any) -> bool:
    """ACI reports a stopped group as instance state Stopped, its containers Terminated."""
    if group.instance_view is not None and group.instance_view.state == "Stopped":
        return True
    view = group.containers[0].instance_view if group.containers else None
    return bool(view and view.current_state and view.current_state.state == "Terminated")


def container_view(group: Any) -> Any:
    """The instance view of the group's (one) container, or None."""
    return group.containers[0].instance_view if group is not None and group.containers else None


def describe(group: Any) -> str | None:
    """`<provisioning state>/<container state>`, for progress lines and timeouts; None when there is no group."""
    if group is None:
        return None
    container = container_view(group)
    current = container.current_state.state if container and container.current_state else None
    return f"{group.provisioning_state}/{current or (group.instance_view and group.instance_view.state)}"


def diagnostics(group: Any, logs: str | None, lines: int = 5) -> str:
    """The container's last events and log lines (None: the logs could not be read), in one line."""
    parts = []
    view = container_view(group)
    if view and view.events:
        parts.append("events: " + "; ".join(f"{e.type}: {e.message}" for e in view.events[-lines:]))
    if logs is None:
        parts.append("logs unavailable")
    elif tail := logs.strip().splitlines()[-lines:]:
        parts.append("last log lines: " + json.dumps(tail))
    return " | ".join(parts) or "no events or logs"
