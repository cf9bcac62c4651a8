"""The `prod` environment on Azure Container Instances: the API as one container group in the run's resource group.

The run's group and its supporting resources, and the teardown, are run_deployment.py's; this adds the container
group, its verification, and redeploying or rolling back its image. Every wait has a deadline and says which step
it is on.
"""

from collections.abc import Mapping
from typing import Any

from provisioning.environments.azure.alert_rules import AlertTarget, aci_target, ensure_alert_rules
from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
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
from provisioning.environments.azure.run_deployment import APP_INSIGHTS_SECRET, AzureRunDeployment
from provisioning.errors import DeploymentError, DeploymentTimeout
from provisioning.waiting import wait_for_http_ok


class AciDeployment(AzureRunDeployment):
    """The API on ACI. `state()`/`from_state()` let another process (a CLI call, an xdist controller) tear it down."""

    target = "container_instances"

    # -- the Deployment interface ---------------------------------------------------------------------------
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

    def logs(self) -> str:
        with arm_operation(f"reading logs of {self.names.container_group}"):
            return str(  # noqa: RUF100
                self.clients.container_instances.containers.list_logs(
                    self.resource_group, self.names.container_group, CONTAINER_NAME
                ).content
                or ""
            )

    # -- provisioning ---------------------------------------------------------------------------------------
    def _provision(self) -> None:
        run = self._provision_run_resources()
        secure_env = {**self._own_secure_env(), APP_INSIGHTS_SECRET: run.app_insights_connection_string}
        self.deploy_image(run.image, registry=run.registry, workspace=run.workspace, secure_env=secure_env)
        ensure_alert_rules(self.clients, self._project, self.names, self._progress)
        self._provisioned("alert rules")

    def alert_target(self) -> AlertTarget:
        """The container group's metrics (deployment.cpu/memory_gb) and /health at its DNS name."""
        return aci_target(self.clients, self._project, self.names)

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
            identity=self._uses_store_identity,
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
