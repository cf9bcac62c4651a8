"""What ARM says of an app's revisions and traffic, as plain values: ready, failed (and why), or still settling."""

from dataclasses import dataclass
from typing import Any

from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
from provisioning.environments.azure.clients import AzureClients

FAILED_STATES = frozenset({"Failed", "Deprovisioned"})


@dataclass(frozen=True)
class RevisionState:
    name: str
    provisioning_state: str | None
    running_state: str | None
    health_state: str | None
    active: bool
    fqdn: str | None
    error: str | None
    image: str | None = None

    @classmethod
    def of(cls, revision: Any) -> "RevisionState":
        properties = revision.properties
        containers = (properties.template.containers if properties.template else None) or []
        return cls(
            name=str(revision.name),
            provisioning_state=properties.provisioning_state,
            running_state=properties.running_state,
            health_state=properties.health_state,
            active=bool(properties.active),
            fqdn=properties.fqdn,
            error=properties.provisioning_error,
            image=containers[0].image if containers else None,
        )

    @property
    def ready(self) -> bool:
        return self.provisioning_state == "Provisioned" and self.health_state == "Healthy" and self.active

    @property
    def failed(self) -> bool:
        return self.provisioning_state in FAILED_STATES or self.running_state == "Failed"

    def describe(self) -> str:
        states = f"{self.provisioning_state}/{self.running_state}/{self.health_state}"
        return f"revision {self.name} {states}" + (f": {self.error}" if self.error else "")


@dataclass(frozen=True)
class ReplicaState:
    name: str
    running: bool  # Container Apps' runningState Running: started and passing its readiness probe
    created: str | None = None


class Revisions:
    """The revisions operations of one app, read-only."""

    def __init__(self, clients: AzureClients, resource_group: str, app: str) -> None:
        self._clients, self._resource_group, self._app = clients, resource_group, app

    def get(self, name: str) -> RevisionState | None:
        revisions = self._clients.container_apps.container_apps_revisions
        found = get_or_none(
            f"reading revision {name}", lambda: revisions.get_revision(self._resource_group, self._app, name)
        )
        return RevisionState.of(found) if found is not None else None

    def all(self) -> list[RevisionState]:
        revisions = self._clients.container_apps.container_apps_revisions
        with arm_operation(f"listing the revisions of {self._app}"):
            return [RevisionState.of(r) for r in revisions.list_revisions(self._resource_group, self._app)]

    def replicas(self, name: str) -> list[ReplicaState]:
        """The revision's replicas now (an autoscaled revision's count moves with its load)."""
        operations = self._clients.container_apps.container_apps_revision_replicas
        with arm_operation(f"listing the replicas of revision {name}"):
            found = operations.list_replicas(self._resource_group, self._app, name).value or []
        return [
            ReplicaState(
                name=str(replica.name),
                running=replica.properties.running_state == "Running",
                created=str(replica.properties.created_time) if replica.properties.created_time else None,
            )
            for replica in found
        ]


def traffic_weights(app: Any) -> dict[str, int]:
    """Weight by revision name as the app's ingress holds it (entries naming `latestRevision` under that name)."""
    ingress = app.properties.configuration.ingress if app is not None and app.properties.configuration else None
    weights: dict[str, int] = {}
    for entry in (ingress.traffic if ingress is not None else None) or []:
        name = entry.revision_name or (app.properties.latest_ready_revision_name if entry.latest_revision else None)
        if name:
            weights[name] = weights.get(name, 0) + int(entry.weight or 0)
    return weights


def serving_revision(app: Any) -> str | None:
    """The one revision that has all the traffic (None while it is split, or before any is ready)."""
    full = [name for name, weight in traffic_weights(app).items() if weight == 100]
    return full[0] if full else None
