"""The write side of an app's revisions: traffic changes (one PATCH of the ingress, no new revision), activation and
deactivation. Each is one ARM call; a rollout and a rollback are made of them."""

from typing import Any

from azure.mgmt.appcontainers import models as aca

from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_apps.revisions import Revisions
from provisioning.environments.azure.progress import Progress


class AppTraffic(Revisions):
    """Revisions of one app, with the operations that change which of them run and get traffic."""

    def __init__(
        self, clients: AzureClients, resource_group: str, app: str, progress: Progress, timeout_s: float
    ) -> None:
        super().__init__(clients, resource_group, app)
        self._progress, self._timeout_s = progress, timeout_s

    def move(self, weights: list[aca.TrafficWeight]) -> None:
        """A PATCH of the ingress's traffic only: the template, and so the revisions, stay as they are."""
        patch = {"properties": {"configuration": {"ingress": {"traffic": [dict(w) for w in weights]}}}}
        with arm_operation(f"moving traffic of {self._app}"):
            poller = self._operations.begin_update(self._resource_group, self._app, patch)
        self._progress.wait_for_poller(f"traffic of {self._app}", poller, self._timeout_s)

    def activate(self, revision: str) -> None:
        state = self.get(revision)
        if state is not None and not state.active:
            with arm_operation(f"activating revision {revision}"):
                self._revisions.activate_revision(self._resource_group, self._app, revision)
            self._progress.say(f"[container app] activated {revision}")

    def deactivate(self, revision: str) -> None:
        with arm_operation(f"deactivating revision {revision}"):
            self._revisions.deactivate_revision(self._resource_group, self._app, revision)
        self._progress.say(f"[container app] deactivated {revision}")

    def deactivate_all_but(self, *keep: str | None) -> None:
        """Every other revision stops running (and costing): replaced ones, and a failed bootstrap revision."""
        for state in self.all():
            if state.active and state.name not in keep:
                self.deactivate(state.name)

    def problem(self, name: str) -> str | None:
        """Why `name` is not serving well (None when ARM reports it ready and healthy)."""
        state = self.get(name)
        if state is None:
            return f"revision {name} is gone"
        return None if state.ready else state.describe()

    @property
    def _operations(self) -> Any:
        return self._clients.container_apps.container_apps

    @property
    def _revisions(self) -> Any:
        return self._clients.container_apps.container_apps_revisions
