"""What both Azure targets (Container Instances, Container Apps) do the same way: one run, one resource group.

The run's group (random name, tagged with the run's id and a DeleteAfter time a sweeper honours) holds the registry
the image is pushed to, the Log Analytics workspace, Application Insights and the model store; the target's own
resources (a container group, or a managed environment and a container app) come on top. Teardown never trusts a
flag alone: it asks ARM whether the run's group exists, checks by its tags that it is the run's, deletes it, waits
for it and checks it is gone.
"""

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from typing_extensions import Self

from provisioning.config import ProjectConfig
from provisioning.environments.azure.alert_rules import AlertTarget
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_group_spec import RegistryLogin, WorkspaceLogin
from provisioning.environments.azure.model_storage import ModelStorage, container_name, serving_env
from provisioning.environments.azure.names import PROJECT_TAG, AciNames
from provisioning.environments.azure.progress import Progress
from provisioning.environments.azure.registry_push import push_image
from provisioning.environments.azure.run_resources import RunResources
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.environments.base import Deployment
from provisioning.environments.image import build_service_image
from provisioning.environments.secrets import require_secrets
from provisioning.errors import DeploymentError

APP_INSIGHTS_SECRET = "APPLICATIONINSIGHTS_CONNECTION_STRING"


@dataclass(frozen=True)
class RunLogins:
    """What the target's own resources are made with: the pushed image and the run's registry and workspace."""

    image: str
    registry: RegistryLogin
    workspace: WorkspaceLogin
    app_insights_connection_string: str


class AzureRunDeployment(Deployment):
    """The run's resource group and supporting resources, and the record of what exists; subclasses add the target."""

    environment = "prod"
    target = "container_instances"
    names_type: ClassVar[type[AciNames]] = AciNames
    """The target's resource names (each target adds its own to the run's)."""

    def __init__(
        self,
        project: ProjectConfig,
        azure: AzureEnvironment,
        *,
        names: AciNames | None = None,
        env: Mapping[str, str] | None = None,
        secure_env: Mapping[str, str] | None = None,
        local_image: str | None = None,
        clients: AzureClients | None = None,
        progress: Progress | None = None,
        resources: list[str] | None = None,
        image: str | None = None,
        url: str | None = None,
        missing_secrets: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._missing_secrets = list(missing_secrets or [])
        self._project = project
        self._azure = azure
        self._env = dict(env or {})
        self._secure_env = dict(secure_env or {})
        self.names = names or self.names_type.for_run(project.azure)
        self._local_image = local_image
        self._clients = clients
        self._progress = progress or Progress()
        self._resources = list(resources or [])
        self._group_requested = resources is not None
        """Whether the run's resource group may exist: a new deployment's before it asks ARM for one; always for
        one attached from a record, whatever that record says."""
        self._image = image
        self._url = url

    def state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "target": self.target,
            "names": self.names.as_dict(),
            "resources": self._resources,
            "image": self._image,
            "url": self._url,
            "env": self._env,
            "secret_variables": sorted({*self._secure_env, *self._missing_secrets}),  # names only
            **self._target_state(),
        }

    def _target_state(self) -> dict[str, Any]:
        """What the target records besides the run's own (nothing secret)."""
        return {}

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        project: ProjectConfig,
        azure: AzureEnvironment,
        secure_env: Mapping[str, str] | None = None,
    ) -> Self:
        """Secrets are never recorded in the state, only their names: the caller passes their values again."""
        if "secret_variables" in state:
            names, given = state["secret_variables"], secure_env or {}
            secure_env = {name: given[name] for name in names if given.get(name)}
        missing = [name for name in state.get("secret_variables", []) if name not in (secure_env or {})]
        return cls(
            project,
            azure,
            names=cls.names_type(**state["names"]),
            env=state["env"],
            secure_env=secure_env,
            resources=list(state.get("resources", [])),
            image=state["image"],
            url=state["url"],
            missing_secrets=missing,
            **cls._target_arguments(state),
        )

    @classmethod
    def _target_arguments(cls, state: Mapping[str, Any]) -> dict[str, Any]:
        """The constructor arguments `_target_state` recorded."""
        return {}

    @property
    def url(self) -> str:
        if self._url is None:
            raise DeploymentError(f"the {self.target} deployment has no URL yet (start it first)")
        return self._url

    @property
    def version(self) -> str:
        return self._image or "not deployed"

    @property
    def resource_group(self) -> str:
        return self.names.resource_group

    def teardown(self) -> list[str]:
        """Delete the run's resource group if ARM has it, and check it is gone; already gone is success."""
        if not self._group_requested:
            return []  # never asked ARM for anything
        existed = self._run_resources.delete_group()
        removed = [f"resource group {self.resource_group} (and everything in it)"] if existed else []
        removed += self._remove_what_outlives_the_group()  # before the record goes: a failure here keeps it
        self._resources, self._group_requested = [], False
        self._record(gone=True)
        return removed

    def _remove_what_outlives_the_group(self) -> list[str]:
        """What deleting the group leaves behind (a soft-deleted key vault); removed, and named."""
        return []

    @abc.abstractmethod
    def rollback(self) -> str:
        """Serve what served before the current image again; returns what serves now (an image or a revision)."""

    @abc.abstractmethod
    def alert_target(self) -> AlertTarget:
        """What the alert catalogue watches on this target: its metrics namespace, sizes and /health URL."""

    @property
    def clients(self) -> AzureClients:
        if self._clients is None:
            self._clients = AzureClients(self._azure)
        return self._clients

    @property
    def _run_resources(self) -> RunResources:
        return RunResources(self.clients, self._project.azure, self.names, self._progress, self._timeout)

    @property
    def _timeout(self) -> float:
        return self._project.azure.operation_timeout_s

    def _provision_run_resources(self) -> RunLogins:
        """The group, the registry with the image pushed, the workspace, Application Insights and the model store."""
        location = self._project.azure.location
        self._ensure_resource_group(location)
        registry = self._run_resources.ensure_registry(location)
        self._provisioned(f"container registry {self.names.registry}")
        image = push_image(self._local_image or build_service_image(), registry, self._project.deployment.image_name)
        workspace = self._run_resources.ensure_workspace(location)
        self._provisioned(f"Log Analytics workspace {self.names.workspace}")
        connection_string = self._run_resources.ensure_app_insights(location, workspace)
        self._provisioned(f"Application Insights component {self.names.component}")
        self._ensure_model_storage(location)
        return RunLogins(image, registry, workspace, connection_string)

    def use_local_image(self, local_image: str) -> None:
        """The next start() pushes and deploys `local_image` instead of building the project's image."""
        self._local_image = local_image

    def push_local_image(self, local_image: str) -> str:
        """Push an image from the local engine to the run's registry; returns the reference a deployment pulls."""
        return push_image(local_image, self._run_resources.registry_login(), self._project.deployment.image_name)

    def _provisioned(self, resource: str) -> None:
        """Record that `resource` exists now (a record of a half-done provisioning says exactly how far it got)."""
        if resource not in self._resources:
            self._resources.append(resource)
        self._record()

    def _ensure_resource_group(self, location: str) -> None:
        def before_creating() -> None:
            self._group_requested = True
            self._record()  # before the request: a process killed while ARM creates the group still has its record

        rg = self.resource_group
        if self._run_resources.adopt_or_create_group(location, self._project.azure.delete_after_hours, before_creating):
            self.created_now.append(f"resource group {rg}")
        self._group_requested = True
        self._provisioned(f"resource group {rg}")

    def _run_secure_env(self) -> dict[str, str]:
        """The secrets the API runs with: ours and the Application Insights connection string."""
        return {**self._own_secure_env(), APP_INSIGHTS_SECRET: self._run_resources.connection_string()}

    def _own_secure_env(self) -> dict[str, str]:
        """The secrets we pass, all of them: a redeploy without one it was deployed with would drop it."""
        require_secrets(self._missing_secrets, self.environment)
        return dict(self._secure_env)

    def model_storage(self) -> ModelStorage | None:
        """The run's model store account (None for a deployment recorded before it was provisioned)."""
        if not self.names.storage_account:
            return None
        return ModelStorage(
            self.clients,
            self.resource_group,
            self.names.storage_account,
            container_name(self._project.models.store),
            self._progress,
            self._timeout,
        )

    def _ensure_model_storage(self, location: str) -> None:
        """The account and its container; the API serves from them (MODEL_STORE) once they hold every model."""
        storage = self.model_storage()
        if storage is None:
            return
        storage.ensure(
            location, self._project.azure.model_storage.sku, {"project": PROJECT_TAG, "run": self.names.run_id}
        )
        self._env.pop("MODEL_STORE", None)
        if storage.serves_every_model():
            self._env["MODEL_STORE"] = storage.container_url()

    def _store_secure_env(self, secure_env: Mapping[str, str]) -> dict[str, str]:
        """The account key as a secret, when the API serves from the store without an identity."""
        storage = self.model_storage()
        if storage is None or "MODEL_STORE" not in self._env or self._store_auth != "connection_string":
            return dict(secure_env)
        key = secure_env.get("MODEL_STORE_CONNECTION_STRING") or storage.connection_string()
        return {**secure_env, **serving_env(self._env["MODEL_STORE"], self._store_auth, key)[1]}

    @property
    def _store_auth(self) -> str:
        return self._project.azure.model_storage.auth

    @property
    def _uses_store_identity(self) -> bool:
        return bool(self.names.storage_account) and self._store_auth == "identity"
