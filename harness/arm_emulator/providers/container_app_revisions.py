"""Microsoft.App/containerApps/revisions and .../replicas: what the revisions operations of the SDK read and do.

GET revisions (list), GET revisions/{name}, POST revisions/{name}/activate|deactivate|restart (200, no body),
GET revisions/{name}/replicas (list) and GET .../replicas/{replica}. A revision reports `fqdn` (its own ingress
address, 127.0.0.M:port), `active`, `replicas` (how many run), `trafficWeight`, and its provisioning, running and
health states with `provisioningError` saying why it failed. Deactivating a revision that has traffic is refused
(400), as Azure refuses it; restarting an inactive one too.
"""

from typing import Any

from harness.arm_emulator.app_host import AppHost
from harness.arm_emulator.app_revisions import Revision
from harness.arm_emulator.app_routing import Replica
from harness.arm_emulator.container_runtime import ContainerRuntime
from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply
from harness.arm_emulator.store import StoredResource

REVISIONS = "Microsoft.App/containerApps/revisions"
REPLICAS = "Microsoft.App/containerApps/revisions/replicas"


def revision_action(resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply | None:
    """The answer to a revisions/replicas request, or None when the path is not one of them."""
    path = request.path
    if not path or path[0] != "revisions":
        return None
    host = ctx.apps
    if request.method == "GET" and len(path) == 1:
        weights = host.view(resource.id).get("weights", {})
        return Reply(
            200, {"value": [_revision_body(resource, revision, weights) for revision in host.revisions(resource.id)]}
        )
    if len(path) < 2:
        return None
    revision = host.revision(resource.id, request.sub_path[1])
    if revision is None:
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{REVISIONS}/{request.sub_path[1]}' under container app '{resource.name}' was not found.",
        )
    if request.method == "GET" and len(path) == 2:
        return Reply(200, _revision_body(resource, revision, host.view(resource.id).get("weights", {})))
    if request.method == "POST" and len(path) == 3:
        return _revision_command(resource, revision, path[2], host)
    if request.method == "GET" and path[2:3] == ["replicas"]:
        return _replicas(resource, revision, request, ctx.runtime)
    return None


def _revision_command(resource: StoredResource, revision: Revision, command: str, host: AppHost) -> Reply | None:
    if command == "activate":
        host.activate(resource.id, revision.name)
        return Reply(200)
    if command == "deactivate":
        weight = host.view(resource.id).get("weights", {}).get(revision.name, 0)
        if weight > 0 and revision.active:
            raise ArmError(
                400,
                "ContainerAppRevisionHasTraffic",
                f"Revision '{revision.name}' of container app '{resource.name}' has traffic weight {weight}%; "
                "move its traffic to other revisions (properties.configuration.ingress.traffic) before "
                "deactivating it.",
            )
        host.deactivate(resource.id, revision.name)
        return Reply(200)
    if command == "restart":
        if not revision.active:
            raise ArmError(
                400,
                "ContainerAppRevisionInactive",
                f"Revision '{revision.name}' of container app '{resource.name}' is not active; activate it instead.",
            )
        host.restart(resource.id, revision.name)
        return Reply(200)
    return None


def _revision_body(resource: StoredResource, revision: Revision, weights: dict[str, int]) -> dict[str, Any]:
    live = [replica for replica in revision.replicas if not replica.stopping]
    return {
        "id": f"{resource.id}/revisions/{revision.name}",
        "name": revision.name,
        "type": REVISIONS,
        "properties": {
            "createdTime": revision.created,
            "lastActiveTime": revision.last_active,
            "fqdn": revision.address or "",
            "template": revision.template,
            "active": revision.active,
            "replicas": len(live) if revision.active else 0,
            "trafficWeight": weights.get(revision.name, 0),
            "provisioningError": revision.error,
            "healthState": revision.health_state,
            "provisioningState": revision.provisioning_state,
            "runningState": revision.running_state,
        },
    }


def _replicas(resource: StoredResource, revision: Revision, request: ActionRequest, runtime: ContainerRuntime) -> Reply:
    live = [replica for replica in revision.replicas if not replica.stopping]
    base = f"{resource.id}/revisions/{revision.name}/replicas"
    if len(request.path) == 3:
        return Reply(200, {"value": [_replica_body(base, replica, runtime) for replica in live]})
    wanted = request.sub_path[3].lower()
    for replica in live:
        if replica.name.lower() == wanted:
            return Reply(200, _replica_body(base, replica, runtime))
    raise ArmError(404, "ResourceNotFound", f"The Resource '{REPLICAS}/{request.sub_path[3]}' was not found.")


def _replica_body(base: str, replica: Replica, runtime: ContainerRuntime) -> dict[str, Any]:
    containers = []
    for name, state in runtime.states(replica.runtime_id).items():
        running = state.status == "running"
        containers.append(
            {
                "name": name,
                "containerId": "",
                "ready": replica.ready and running,
                "started": running,
                "restartCount": state.restart_count,
                "runningState": "Running"
                if running
                else ("Terminated" if state.status in ("exited", "dead") else "Waiting"),
                "runningStateDetails": "" if running else f"exit code {state.last_exit_code}",
            }
        )
    return {
        "id": f"{base}/{replica.name}",
        "name": replica.name,
        "type": REPLICAS,
        "properties": {
            "createdTime": replica.created,
            "runningState": "Running" if replica.ready else "NotRunning",
            "runningStateDetails": "ready" if replica.ready else "not ready",
            "containers": containers,
            "initContainers": [],
        },
    }
