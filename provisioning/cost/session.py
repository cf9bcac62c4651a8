"""What one harness session cost: the run's resources priced for as long as they existed.

Everything a session creates lives in its resource group, so the session is billed from the group's creation (its
first successful PUT) to its deletion (the DELETE that removes it with everything in it), read from the run's ARM
request log (the emulator writes it as reports/arm_requests.json; on Azure, the activity log has the same times).
The service is taken as busy throughout and the monthly free grants as spent by other use.
"""

import json
from pathlib import Path
from typing import Any

from provisioning.config import ProjectConfig
from provisioning.cost.estimate import Period, TargetEstimate, estimate
from provisioning.cost.prices import PriceSnapshot

RESOURCE_GROUPS = "Microsoft.Resources/resourceGroups"


def session_hours(requests: list[dict[str, Any]]) -> float | None:
    """Hours from the resource group's creation to its deletion; None when the log holds no whole session."""
    groups = [entry for entry in requests if entry.get("resource_type") == RESOURCE_GROUPS]
    created = [e["time"] for e in groups if e["method"] == "PUT" and e["status"] in (200, 201)]
    deleted = [e["time"] for e in groups if e["method"] == "DELETE" and e["status"] in (200, 202)]
    if not created or not deleted or max(deleted) <= min(created):
        return None
    return float(max(deleted) - min(created)) / 3600


def session_cost(project: ProjectConfig, snapshot: PriceSnapshot, target: str, log: Path) -> TargetEstimate | None:
    """The session in `log` (an arm_requests.json) on `target`; None when the file has no whole session."""
    if not log.is_file():
        return None
    hours = session_hours(json.loads(log.read_text()))
    if hours is None:
        return None
    result = estimate(project, snapshot, target, Period(hours=hours, busy_all_the_time=True, free_grants=False))
    result.notes.append(f"the session's resources existed {hours * 60:.1f} min ({log})")
    return result
