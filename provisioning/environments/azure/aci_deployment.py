"""The `prod` environment: the API on Azure Container Instances, with everything it needs, and nothing left after.

One run owns one resource group (random name, tagged with the run's id and a DeleteAfter time a sweeper honours).
Teardown never trusts a flag alone: it asks ARM whether the run's group exists, checks by its tags that it is the
run's, deletes it, waits for it and checks it is gone. Every wait has a deadline and says which step it is on.
"""

from collections.abc import Mapping
from typing import Any

from provisioning.config import ProjectConfig
from provisioning.environments.azure.alert_rules import ensure_alert_rules
from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_group_spec import (
    CONTAINER_NAME,
    IMAGE_TAG,
    PREVIOUS_IMAGE_TAG,
    SPEC_HASH_TAG,
    ContainerGroupRequest,
    RegistryLogin,
    WorkspaceLogin,
    container_group,
)
from provisioning.environments.azure.group_state import (
    container_view,
    describe,
    diagnostics,
    is_stopped,
    raise_if_crashed,
)
from provisioning.environments.azure.model_storage import ModelStorage, container_name, serving_env
from provisioning.environments.azure.names import PROJECT_TAG, AciNames
from provisioning.environments.azure.progress import Progress
from provisioning.environments.azure.registry_push import push_image
from provisioning.environments.azure.run_resources import RunResources
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.environments.base import Deployment
from provisioning.environments.image import build_service_image
from provisioning.errors import DeploymentError, DeploymentTimeout
from provisioning.waiting import wait_for_http_ok


class AciDeployment(Deployment):
    """The API on ACI. `state()`/`from_state()` let another process (a CLI call, an xdist controller) tear it down."""

    environment = "prod"

    def __init__(
        self,
        project: ProjectConfig,
        azure: AzureEnvironment,
        *,
        env: Mapping[str, str] | None = None,
        secure_env: Mapping[str, str] | None = None,
        names: AciNames | None = None,
        local_image: str | None = None,
        clients: AzureClients | None = None,
        progress: Progress | None = None,
        resources: list[str] | None = None,
        image: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__()
        self._project = project
        self._azure = azure
        self._env = dict(env or {})
        self._secure_env = dict(secure_env or {})
        self.names = names or AciNames.for_run(project.azure)
        self._local_image = local_image
        self._clients = clients
        self._progress = progress or Progress()
        self._resources = list(resources or [])
        self._group_requested = resources is not None
        """Whether the run's resource group may exist: a new deployment's before it asks ARM for one; always for
        one attached from a record, whatever that record says."""
        self._image = image
        self._url = url

    # -- the Deployment interface ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._url is None:
            raise DeploymentError("the ACI deployment has no URL yet (start it first)")
        return self._url

    @property
    def version(self) -> str:
        return self._image or "not deployed"

    @property
    def resource_group(self) -> str:
        return self.names.resource_group

    def start(self) -> None:
        try:
            group = self._get_group() if self._group_requested else None
            if group is not None and self._image is not None and is_stopped(group):
                self._start_stopped_group()
                return
            self._provision()
        finally:
            if self._group_requested:
                self._record()

    def stop(self) -> None:
        with arm_operation(f"stopping container group {self.names.container_group}"):
            self.clients.container_instances.container_groups.stop(self.resource_group, self.names.container_group)
        self._progress.wait_until(
            "container stopped",
            lambda: True if (group := self._get_group()) is None or is_stopped(group) else None,
            timeout_s=self._timeout,
            interval_s=1.0,
            last_seen=lambda: f"state {self._group_state()}",
        )

    def teardown(self) -> list[str]:
        """Delete the run's resource group if ARM has it, and check it is gone; already gone is success."""
        if not self._group_requested:
            return []  # never asked ARM for anything
        existed = self._run_resources.delete_group()
        self._resources, self._group_requested = [], False
        self._record(gone=True)
        return [f"resource group {self.resource_group} (and everything in it)"] if existed else []

    def logs(self) -> str:
        with arm_operation(f"reading logs of {self.names.container_group}"):
            return str(  # noqa: RUF100
                self.clients.container_instances.containers.list_logs(
                    self.resource_group, self.names.container_group, CONTAINER_NAME
                ).content
                or ""
            )

    def state(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "names": self.names.as_dict(),
            "resources": self._resources,
            "image": self._image,
            "url": self._url,
            "env": self._env,
        }

    @classmethod
    def from_state(
        cls,
        state: Mapping[str, Any],
        project: ProjectConfig,
        azure: AzureEnvironment,
        secure_env: Mapping[str, str] | None = None,
    ) -> "AciDeployment":
        """Secrets are never recorded in the state: the caller passes them again."""
        return cls(
            project,
            azure,
            env=state["env"],
            secure_env=secure_env,
            names=AciNames(**state["names"]),
            resources=list(state.get("resources", [])),
            image=state["image"],
            url=state["url"],
        )

    # -- provisioning ---------------------------------------------------------------------------------------
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

    def _provision(self) -> None:
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
        secure_env = {**self._secure_env, "APPLICATIONINSIGHTS_CONNECTION_STRING": connection_string}
        self.deploy_image(image, registry=registry, workspace=workspace, secure_env=secure_env)
        ensure_alert_rules(self.clients, self._project, self.names, self._progress)
        self._provisioned("alert rules")

    def _provisioned(self, resource: str) -> None:
        """Record that `resource` exists now (a record of a half-done provisioning says exactly how far it got)."""
        if resource not in self._resources:
            self._resources.append(resource)
        self._record()

    def deploy_image(
        self,
        image: str,
        *,
        registry: RegistryLogin | None = None,
        workspace: WorkspaceLogin | None = None,
        secure_env: Mapping[str, str] | None = None,
    ) -> None:
        """PUT the container group with `image` (unless it already runs exactly this), then verify it.

        Registry, workspace and secrets default to the run's own, so a redeploy changes the image and nothing else.
        A failed deployment or verification rolls back to the image that ran before, when the configuration says so.
        """
        registry = registry or self._run_resources.registry_login()
        workspace = workspace or self._run_resources.workspace_login()
        secure_env = dict(secure_env) if secure_env is not None else self._run_secure_env()
        existing = self._get_group()
        previous = (existing.tags or {}).get(IMAGE_TAG) if existing else None
        request = self._group_request(image, registry, workspace, secure_env)
        try:
            if existing is not None and (existing.tags or {}).get(SPEC_HASH_TAG) == request.spec_hash():
                self._progress.say(f"[container group] {self.names.container_group} already runs this spec; unchanged")
            else:
                verb = "redeployed" if existing is not None else "created"
                self._put_group(request, previous)
                self.created_now.append(f"container group {self.names.container_group} ({verb}, {image})")
                self._provisioned(f"container group {self.names.container_group}")
            self._verify(image)
        except DeploymentError as failure:
            if previous and previous != image and self._project.azure.rollback_on_failed_verification:
                self._progress.say(f"[rollback] {image} failed verification; redeploying {previous}")
                self._put_group(self._group_request(previous, registry, workspace, secure_env), None)
                self._verify(previous)
                raise DeploymentError(
                    f"{image} failed verification ({failure}); rolled back to {previous}"
                ) from failure
            raise
        finally:
            self._record()

    def rollback(self) -> str:
        """Redeploy the image that ran before the current one; returns it."""
        group = self._get_group()
        previous = (group.tags or {}).get(PREVIOUS_IMAGE_TAG) if group else None
        if not previous:
            raise DeploymentError(f"{self.names.container_group} has no previous image to roll back to")
        self.deploy_image(str(previous))
        return str(previous)

    def _run_secure_env(self) -> dict[str, str]:
        """The secrets the group runs with: ours and the Application Insights connection string."""
        return {**self._secure_env, "APPLICATIONINSIGHTS_CONNECTION_STRING": self._run_resources.connection_string()}

    def _ensure_resource_group(self, location: str) -> None:
        def before_creating() -> None:
            self._group_requested = True
            self._record()  # before the request: a process killed while ARM creates the group still has its record

        rg = self.resource_group
        if self._run_resources.adopt_or_create_group(location, self._project.azure.delete_after_hours, before_creating):
            self.created_now.append(f"resource group {rg}")
        self._group_requested = True
        self._provisioned(f"resource group {rg}")

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
        """The account and its container; the group serves from them (MODEL_STORE) once they hold every model."""
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
        """The account key as a secureValue, when the group serves from the store without an identity."""
        storage = self.model_storage()
        if storage is None or "MODEL_STORE" not in self._env or self._store_auth != "connection_string":
            return dict(secure_env)
        key = secure_env.get("MODEL_STORE_CONNECTION_STRING") or storage.connection_string()
        return {**secure_env, **serving_env(self._env["MODEL_STORE"], self._store_auth, key)[1]}

    @property
    def _store_auth(self) -> str:
        return self._project.azure.model_storage.auth

    def _grant_store_access(self) -> None:
        """Storage Blob Data Reader for the group's identity (known only once the group exists); idempotent."""
        storage = self.model_storage()
        group = self._get_group()
        principal = group.identity.principal_id if group is not None and group.identity else None
        if storage is not None and principal:
            storage.grant_reader(principal)
            self._progress.say(f"[model store] {self.names.container_group} may read {storage.account}")

    def _group_request(
        self,
        image: str,
        registry: RegistryLogin | None,
        workspace: WorkspaceLogin | None,
        secure_env: Mapping[str, str],
    ) -> ContainerGroupRequest:
        return ContainerGroupRequest.for_run(
            self._project,
            self.names,
            image,
            env=self._env,
            secure_env=self._store_secure_env(secure_env),
            registry=registry,
            workspace=workspace,
            identity=bool(self.names.storage_account) and self._store_auth == "identity",
        )

    def _put_group(self, request: ContainerGroupRequest, previous_image: str | None) -> None:
        name = self.names.container_group
        body = container_group(request, previous_image=previous_image)
        with arm_operation(f"deploying container group {name}"):
            poller = self.clients.container_instances.container_groups.begin_create_or_update(
                self.resource_group, name, body
            )
        self._progress.wait_for_poller(f"container group {name}", poller, self._timeout)
        self._grant_store_access()

    def _verify(self, image: str) -> None:
        """Provisioning Succeeded, the container Running, /health 200 on the public address: each with a deadline."""
        try:
            group = self._progress.wait_until(
                "container running",
                self._running_group,
                timeout_s=self._timeout,
                interval_s=1.0,
                last_seen=lambda: f"state {self._group_state()}",
            )
            self._url = f"http://{group.ip_address.ip}:{self._project.deployment.port}"
            wait_for_http_ok(
                f"{self._url}/health",
                timeout_s=self._project.deployment.startup_timeout_s,
                interval_s=1.0,
                is_alive=self._not_crashed,
            )
        except (DeploymentTimeout, DeploymentError) as failure:
            raise DeploymentError(f"{failure}; {self._diagnostics()}") from failure
        self._image = image
        self._progress.say(f"[health] {self._url}/health answers 200; running {image}")

    def _start_stopped_group(self) -> None:
        name = self.names.container_group
        with arm_operation(f"starting container group {name}"):
            poller = self.clients.container_instances.container_groups.begin_start(self.resource_group, name)
        self._progress.wait_for_poller(f"starting {name}", poller, self._timeout)
        self._verify(self._image or "")

    def _get_group(self) -> Any:
        name = self.names.container_group
        groups = self.clients.container_instances.container_groups
        return get_or_none(f"reading container group {name}", lambda: groups.get(self.resource_group, name))

    def _group_state(self) -> str | None:
        return describe(self._get_group())

    def _running_group(self) -> Any:
        group = self._get_group()
        if group is None or group.provisioning_state == "Failed":
            raise DeploymentError(f"container group {self.names.container_group} provisioning failed")
        view = container_view(group)
        raise_if_crashed(view)
        running = view and view.current_state and view.current_state.state == "Running"
        return group if group.provisioning_state == "Succeeded" and running and group.ip_address else None

    def _not_crashed(self) -> bool:
        """For the health wait: a container that crashed (and is restarting) will not get healthy, so stop waiting."""
        group = self._get_group()
        raise_if_crashed(container_view(group))
        return True

    def _diagnostics(self) -> str:
        """The container's events and last log lines, for an error message a person can act on."""
        try:
            logs: str | None = self.logs()
        except DeploymentError:
            logs = None
        return diagnostics(self._get_group(), logs)
