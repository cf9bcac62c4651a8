"""The run's supporting resources, each created idempotently in the run's resource group: the container registry
the image is pushed to, the Log Analytics workspace the container logs to, and the Application Insights component
the service reports to. The container group itself is the deployment's (aci_deployment.py)."""

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from provisioning.config import AzureSection
from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_group_spec import RegistryLogin, WorkspaceLogin
from provisioning.environments.azure.names import DELETE_AFTER_TAG, PROJECT_TAG, RUN_TAG, AciNames
from provisioning.environments.azure.progress import Progress
from provisioning.errors import DeploymentError


def refuse_unless_the_runs(group: Any, run_id: str) -> None:
    """A group of the run's name that another run or project tagged is not ours to delete or to deploy into."""
    tags = group.tags or {}
    if tags.get("project") != PROJECT_TAG or tags.get(RUN_TAG) != run_id:
        raise DeploymentError(
            f"resource group {group.name} is not this run's (tags project={tags.get('project')!r}, "
            f"{RUN_TAG}={tags.get(RUN_TAG)!r}; this run is {run_id!r}): leaving it alone"
        )


class RunResources:
    """The resource group and the supporting resources of one run (`names`)."""

    def __init__(
        self, clients: AzureClients, azure: AzureSection, names: AciNames, progress: Progress, timeout_s: float
    ) -> None:
        self._clients, self._azure, self._names = clients, azure, names
        self._progress, self._timeout = progress, timeout_s

    def adopt_or_create_group(
        self, location: str, delete_after_hours: float, before_create: Callable[[], None]
    ) -> bool:
        """The run's resource group: adopted when it exists and is the run's (refused when it is another's), else
        created with the run's tags; `before_create` runs just before the request. True when it was created."""
        rg = self._names.resource_group
        resource_groups = self._clients.resources.resource_groups
        existing = get_or_none(f"reading resource group {rg}", lambda: resource_groups.get(rg))
        if existing is not None:
            refuse_unless_the_runs(existing, self._names.run_id)
            self._progress.say(f"[resource group] {rg} exists and is this run's; using it")
            return False
        delete_after = datetime.now(timezone.utc) + timedelta(hours=delete_after_hours)
        tags = {
            "project": PROJECT_TAG,
            RUN_TAG: self._names.run_id,
            "environment": "prod",
            "created-by": "mlops-deploy",
            DELETE_AFTER_TAG: delete_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        before_create()
        with arm_operation(f"creating resource group {rg}"):
            resource_groups.create_or_update(rg, {"location": location, "tags": tags})
        self._progress.say(f"[resource group] created {rg} (DeleteAfter {tags[DELETE_AFTER_TAG]})")
        return True

    def delete_group(self) -> bool:
        """Delete the run's group if ARM has it (refusing one that is not the run's) and check it is gone; True when
        there was one to delete."""
        rg = self._names.resource_group
        resource_groups = self._clients.resources.resource_groups
        existing = get_or_none(f"reading resource group {rg}", lambda: resource_groups.get(rg))
        if existing is None:
            return False
        refuse_unless_the_runs(existing, self._names.run_id)
        try:
            poller = resource_groups.begin_delete(rg)
        except ResourceNotFoundError:
            return False  # deleted between the read and the delete
        self._progress.wait_for_poller(f"deleting resource group {rg}", poller, self._timeout)
        with arm_operation(f"checking resource group {rg} is gone"):
            if resource_groups.check_existence(rg):
                raise DeploymentError(f"resource group {rg} still exists after its deletion finished")
        return True

    def ensure_registry(self, location: str) -> RegistryLogin:
        from azure.mgmt.containerregistry.models import Registry, RegistryProperties, Sku

        registries = self._clients.registries.registries
        name = self._names.registry
        body = Registry(
            location=location,
            sku=Sku(name=self._azure.registry_sku),
            properties=RegistryProperties(admin_user_enabled=True),
        )
        with arm_operation(f"creating container registry {name}"):
            poller = registries.begin_create(self._names.resource_group, name, body)
        self._progress.wait_for_poller(f"container registry {name}", poller, self._timeout)
        return self.registry_login()

    def registry_login(self) -> RegistryLogin:
        registries = self._clients.registries.registries
        name = self._names.registry
        with arm_operation(f"reading registry {name}"):
            server = registries.get(self._names.resource_group, name).login_server
            credentials = registries.list_credentials(self._names.resource_group, name)
        return RegistryLogin(server=server, username=credentials.username, password=credentials.passwords[0].value)

    def ensure_workspace(self, location: str) -> WorkspaceLogin:
        from azure.mgmt.loganalytics.models import Workspace, WorkspaceProperties, WorkspaceSku

        name = self._names.workspace
        body = Workspace(
            location=location,
            properties=WorkspaceProperties(
                sku=WorkspaceSku(name="PerGB2018"), retention_in_days=self._azure.log_retention_days
            ),
        )
        with arm_operation(f"creating Log Analytics workspace {name}"):
            poller = self._clients.log_analytics.workspaces.begin_create_or_update(
                self._names.resource_group, name, body
            )
        self._progress.wait_for_poller(f"Log Analytics workspace {name}", poller, self._timeout)
        return self.workspace_login()

    def workspace_login(self) -> WorkspaceLogin:
        name = self._names.workspace
        with arm_operation(f"reading workspace {name}"):
            workspace = self._clients.log_analytics.workspaces.get(self._names.resource_group, name)
            keys = self._clients.log_analytics.shared_keys.get_shared_keys(self._names.resource_group, name)
        return WorkspaceLogin(workspace_id=workspace.customer_id, workspace_key=keys.primary_shared_key)

    def ensure_app_insights(self, location: str, workspace: WorkspaceLogin) -> str:
        from azure.mgmt.applicationinsights.v2020_02_02.models import ApplicationInsightsComponent

        name = self._names.component
        with arm_operation(f"reading workspace {self._names.workspace}"):
            workspace_id = self._clients.log_analytics.workspaces.get(
                self._names.resource_group, self._names.workspace
            ).id
        body = ApplicationInsightsComponent(
            location=location,
            kind="web",
            application_type="web",
            workspace_resource_id=workspace_id,
            ingestion_mode="LogAnalytics",
        )
        with arm_operation(f"creating Application Insights component {name}"):
            self._clients.app_insights.components.create_or_update(self._names.resource_group, name, body)
        self._progress.say(f"[application insights] {name} ready")
        return self.connection_string()

    def connection_string(self) -> str:
        name = self._names.component
        with arm_operation(f"reading Application Insights component {name}"):
            return str(self._clients.app_insights.components.get(self._names.resource_group, name).connection_string)
