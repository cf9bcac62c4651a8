"""The `prod` environment on Azure Container Apps: a managed environment and one app, each image a revision.

The run's group and supporting resources, and the teardown, are run_deployment.py's (as for ACI). On top: a
managed environment logging to the run's workspace, and the app in Multiple revisions mode. A new image becomes a
new revision that gets traffic only once it is ready and answers /health; until then the previous revision keeps
all of it, so a redeploy costs callers nothing and a revision that never becomes ready is never served.
"""

import dataclasses
from collections.abc import Mapping
from secrets import token_urlsafe
from typing import Any

from azure.mgmt.appcontainers import models as aca

from provisioning.config import ProjectConfig, RolloutSection
from provisioning.environments.azure.alert_rules import AlertTarget, ensure_alert_rules
from provisioning.environments.azure.arm_errors import arm_operation, get_or_none
from provisioning.environments.azure.container_apps.app_spec import (
    BOOTSTRAP_PREFIX,
    AppRequest,
    check_size,
    container_app,
    managed_environment,
    revision_name,
    traffic,
)
from provisioning.environments.azure.container_apps.canary_signals import SignalLimits
from provisioning.environments.azure.container_apps.candidate import CandidateAddress, CheckFailed
from provisioning.environments.azure.container_apps.key_vault import RunKeyVault
from provisioning.environments.azure.container_apps.names import ContainerAppNames
from provisioning.environments.azure.container_apps.registry_pull import grant_acr_pull, grant_secrets_user
from provisioning.environments.azure.container_apps.revisions import RevisionState, serving_revision
from provisioning.environments.azure.container_apps.rollout import CanaryRollout, CandidateCheck, RolloutReport
from provisioning.environments.azure.container_apps.traffic import AppTraffic
from provisioning.environments.azure.names import PROJECT_TAG, RUN_TAG
from provisioning.environments.azure.run_deployment import APP_INSIGHTS_SECRET, AzureRunDeployment
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.errors import DeploymentError, LogsUnavailable, RolloutRolledBack
from provisioning.monitoring.azure_alerts import ACA_NAMESPACE
from provisioning.monitoring.catalogue import ServiceLimits
from provisioning.waiting import wait_for_http_ok


class ContainerAppsDeployment(AzureRunDeployment):
    """The API on Container Apps. `state()`/`from_state()` let another process tear it down or redeploy it."""

    target = "container_apps"
    names_type = ContainerAppNames
    names: ContainerAppNames

    def __init__(
        self,
        project: ProjectConfig,
        azure: AzureEnvironment,
        *,
        revision: str | None = None,
        previous_revision: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(project, azure, **kwargs)
        self.revision = revision
        """The revision that serves all traffic (None before the first one is ready)."""
        self.previous_revision = previous_revision
        """The revision that served before `revision` (what --action rollback returns to)."""
        self.candidate_checks: list[CandidateCheck] = []
        """Checks a new revision must pass at 0% besides the smoke checks (e.g. the live suites on its label)."""
        self.last_rollout: RolloutReport | None = None

    # -- the Deployment interface ---------------------------------------------------------------------------
    def start(self) -> None:
        sizes = self._project.azure.container_apps
        check_size(sizes.cpu, sizes.memory_gi)  # before any ARM call: Azure would refuse it only at the app's PUT
        try:
            app = self._get_app() if self._group_requested else None
            if app is not None and app.properties.running_status == "Stopped":
                self._app_action("start")
                self._verify(self.revision or str(serving_revision(app)))
                return
            self._provision()
        finally:
            if self._group_requested:
                self._record()

    def stop(self) -> None:
        """Container Apps' own stop: every revision's replicas go away, the app and its revisions stay."""
        self._app_action("stop")

    def restart(self) -> None:
        """Restart the serving revision's replicas (Container Apps restarts a revision, not an app)."""
        name = self._serving_name()
        with arm_operation(f"restarting revision {name}"):
            self.clients.container_apps.container_apps_revisions.restart_revision(
                self.resource_group, self.names.app, name
            )
        self._verify(name)

    def rollback(self) -> str:
        """All traffic back to the revision that served before, in one traffic change when it still runs (it does
        with deployment.rollout.keep_previous_active); the revision rolled back from is deactivated. Returns the
        revision now serving."""
        serving, previous = self._serving_name(), self.previous_revision
        if not previous or previous == serving:
            raise DeploymentError(f"container app {self.names.app} has no previous revision to roll back to")
        state = self.revisions.get(previous)
        if state is None or state.failed:
            raise DeploymentError(f"cannot roll back to {previous}: " + (state.describe() if state else "it is gone"))
        if not state.ready:
            self.revisions.activate(previous)
            self._verify_revision(previous)
        self.revisions.move(traffic((previous, 100)))
        self.revisions.deactivate(serving)
        self.revision, self.previous_revision = previous, None
        self._image = state.image or self._image
        self._verify(previous)
        self._record()
        return previous

    def logs(self) -> str:
        raise LogsUnavailable(
            f"Container Apps keeps console logs in Log Analytics (ContainerAppConsoleLogs_CL in workspace "
            f"{self.names.workspace}), not behind ARM: query the workspace for {self.names.app}"
        )

    def _target_state(self) -> dict[str, Any]:
        return {"revision": self.revision, "previous_revision": self.previous_revision}

    @classmethod
    def _target_arguments(cls, state: Mapping[str, Any]) -> dict[str, Any]:
        return {"revision": state.get("revision"), "previous_revision": state.get("previous_revision")}

    # -- provisioning ---------------------------------------------------------------------------------------
    def _provision(self) -> None:
        run = self._provision_run_resources()
        environment_id = self._ensure_environment(run.workspace)
        if self._uses_key_vault:
            self._ensure_key_vault()
        secrets = {**self._own_secure_env(), APP_INSIGHTS_SECRET: run.app_insights_connection_string}
        self.deploy_image(run.image, secrets=secrets, environment_id=environment_id)
        ensure_alert_rules(self.clients, self._project, self.names, self._progress, self.alert_target())
        self._provisioned("alert rules")

    def alert_target(self) -> AlertTarget:
        """The app's metrics (its own size) and /health at its ingress, for the alert catalogue."""
        sizes = self._project.azure.container_apps
        return AlertTarget(ACA_NAMESPACE, f"{self.url}/health", ServiceLimits.from_sizes(sizes.cpu, sizes.memory_gi))

    def _ensure_environment(self, workspace: Any) -> str:
        name = self.names.managed_environment
        tags = {"project": PROJECT_TAG, RUN_TAG: self.names.run_id}
        body = managed_environment(self._project.azure.location, workspace, tags)
        with arm_operation(f"creating managed environment {name}"):
            poller = self.clients.container_apps.managed_environments.begin_create_or_update(
                self.resource_group, name, body
            )
        environment = self._progress.wait_for_poller(f"managed environment {name}", poller, self._timeout)
        self._provisioned(f"managed environment {name}")
        return str(environment.id)

    def deploy_image(
        self,
        image: str,
        *,
        secrets: Mapping[str, str] | None = None,
        environment_id: str | None = None,
        rollout: RolloutSection | None = None,
    ) -> None:
        """Make `image` the serving revision (unless it already is). While another revision serves, the new one is
        rolled out as a canary (`rollout`, default deployment.rollout): checked at 0% on its label's URL, then
        given the traffic step by step; any failed check sends all of it back and deactivates the new revision
        (RolloutRolledBack). Secrets and environment default to the run's own."""
        request = self._app_request(image, secrets, environment_id)
        wanted = revision_name(self.names.app, request.revision_suffix())
        app = self._get_app() or self._bootstrap(request)
        current = serving_revision(app)
        serving = self.revisions.get(current) if current else None
        if current == wanted and serving is not None and serving.ready:
            self._progress.say(f"[container app] {self.names.app} already serves {wanted}; unchanged")
        elif serving is None or not serving.ready:  # nothing serves yet (the bootstrap revision cannot pull)
            self._put_app(request, traffic((wanted, 100)))
            self._verify_revision(wanted)
            self.revisions.deactivate_all_but(wanted)
        else:
            settings = rollout or self._project.deployment.rollout
            self._roll_out(request, str(current), wanted, settings)
            self.previous_revision = str(current)
            self.revisions.deactivate_all_but(wanted, self.previous_revision if settings.keep_previous_active else None)
        if current != wanted:
            self.created_now.append(f"container app {self.names.app} (revision {wanted}, {image})")
        self._verify(wanted)
        self._image, self.revision = image, wanted
        self._provisioned(f"container app {self.names.app}")

    def _roll_out(self, request: AppRequest, serving: str, candidate: str, settings: RolloutSection) -> None:
        """The candidate at 0% with the rollout label, ready, then CanaryRollout; on any failure (or an
        interrupt) all traffic goes back to `serving`, which never stopped running."""
        report = self.last_rollout = RolloutReport(serving, candidate)
        rollout = CanaryRollout(
            settings, SignalLimits.from_catalogue(self._project.monitoring.alerts), self.revisions.move,
            self.revisions.problem, self._progress.say, self.candidate_checks,
        )  # fmt: skip
        if self.revisions.get(candidate) is None:
            self._put_app(request, rollout.weights(report, 0))
        else:  # an image that ran here before: its revision (same template, same name) comes back
            self.revisions.activate(candidate)
            self.revisions.move(rollout.weights(report, 0))
        try:
            try:
                self._verify_revision(candidate)
            except DeploymentError as error:
                raise CheckFailed("readiness", str(error)) from None
            rollout.run(report, self._candidate_address(settings.label))
        except CheckFailed as failed:
            report.failed_check = failed.check
            self._undo_rollout(serving, candidate)
            raise RolloutRolledBack(
                f"rollout of {candidate} rolled back, {serving} serves all traffic: {failed}"
            ) from None
        except BaseException:
            self._undo_rollout(serving, candidate)
            raise
        self.revisions.move(traffic((candidate, 100)))  # the label's work is done
        self._progress.say(f"[rollout] {report.summary()}")

    def _undo_rollout(self, serving: str, candidate: str) -> None:
        self.revisions.move(traffic((serving, 100)))
        self.revisions.deactivate(candidate)

    def _candidate_address(self, label: str) -> CandidateAddress:
        app = self._get_app()
        environments = self.clients.container_apps.managed_environments
        with arm_operation(f"reading managed environment {self.names.managed_environment}"):
            environment = environments.get(self.resource_group, self.names.managed_environment)
        return CandidateAddress.of_label(
            scheme=self._azure.ingress_scheme, app=self.names.app,
            app_fqdn=str(app.properties.configuration.ingress.fqdn), label=label,
            default_domain=str(environment.properties.default_domain), api_key=self._secure_env.get("API_KEY"),
        )  # fmt: skip

    def _app_request(self, image: str, secrets: Mapping[str, str] | None, environment_id: str | None) -> AppRequest:
        secrets = dict(secrets) if secrets is not None else self._run_secure_env()
        if environment_id is None:
            environments = self.clients.container_apps.managed_environments
            with arm_operation(f"reading managed environment {self.names.managed_environment}"):
                environment_id = environments.get(self.resource_group, self.names.managed_environment).id
        request = AppRequest.for_run(
            self._project,
            self.names,
            image,
            environment_id=str(environment_id),
            registry_server=self._run_resources.registry_login().server,
            env=self._env,
            secrets=self._store_secure_env(secrets),
        )
        return self._in_key_vault(request) if self._uses_key_vault else request

    def _bootstrap(self, request: AppRequest) -> Any:
        """The app's first PUT, which makes its system-assigned identity; then AcrPull (and the model store's
        reader role) for that identity.

        The identity exists only once the app does, so the revision of that first PUT cannot pull and fails. The
        serving revision is then made by a second PUT with a new revisionSuffix rather than by restarting the
        failed one: a new revision is what Azure documents for any change to an app, it is pulled with the role
        already in place (no retry of a failed pull to rely on), and it is the same PUT every later image makes,
        so the first deployment and a redeploy share one path. The failed bootstrap revision is deactivated."""
        # Key Vault references cannot be read before the identity holds its role: the bootstrap revision (which
        # cannot pull, and so never runs) gets throwaway values instead, never the real secrets.
        throwaway = {variable: token_urlsafe(24) for variable in request.key_vault_secrets}
        request = dataclasses.replace(request, secrets={**request.secrets, **throwaway}, key_vault_secrets={})
        bootstrap = revision_name(self.names.app, request.revision_suffix(BOOTSTRAP_PREFIX))
        self._put_app(request, traffic((bootstrap, 100)), suffix_prefix=BOOTSTRAP_PREFIX)
        app = self._get_app()
        principal = app.identity.principal_id if app is not None and app.identity else None
        if not principal:
            raise DeploymentError(f"container app {self.names.app} has no system-assigned identity after its PUT")
        registries = self.clients.registries.registries
        with arm_operation(f"reading registry {self.names.registry}"):
            registry_id = registries.get(self.resource_group, self.names.registry).id
        grant_acr_pull(self.clients, str(registry_id), principal)
        self._progress.say(f"[container app] {self.names.app}'s identity may pull from {self.names.registry}")
        storage = self.model_storage()
        if storage is not None and self._uses_store_identity:
            storage.grant_reader(principal)
            self._progress.say(f"[model store] {self.names.app} may read {storage.account}")
        if self._uses_key_vault:
            grant_secrets_user(self.clients, str(self._key_vault.get().id), principal)
            self._progress.say(f"[key vault] {self.names.app}'s identity may read {self.names.key_vault}'s secrets")
        return app

    # -- Key Vault (azure.secrets: key_vault) ---------------------------------------------------------------
    @property
    def _uses_key_vault(self) -> bool:
        return self._project.azure.secrets == "key_vault"

    @property
    def _key_vault(self) -> RunKeyVault:
        return RunKeyVault(
            self.clients, self.resource_group, self.names.key_vault, self._project.azure.location, self._progress,
            self._timeout,
        )  # fmt: skip

    def _ensure_key_vault(self) -> None:
        self._key_vault.ensure({"project": PROJECT_TAG, RUN_TAG: self.names.run_id})
        self._provisioned(f"key vault {self.names.key_vault}")

    def _in_key_vault(self, request: AppRequest) -> AppRequest:
        """The request with its secrets moved to the run's vault: the app gets their URLs, never their values."""
        urls = self._key_vault.put_secrets(request.secrets)
        return dataclasses.replace(request, secrets={}, key_vault_secrets=urls)

    def _remove_what_outlives_the_group(self) -> list[str]:
        if self._uses_key_vault and self.names.key_vault and self._key_vault.purge_deleted():
            return [f"key vault {self.names.key_vault} (purged after its soft delete)"]
        return []

    def _put_app(
        self, request: AppRequest, weights: list[aca.TrafficWeight], *, suffix_prefix: str | None = None
    ) -> None:
        name = self.names.app
        suffix = request.revision_suffix(suffix_prefix) if suffix_prefix else request.revision_suffix()
        body = container_app(request, suffix=suffix, weights=weights)
        with arm_operation(f"deploying container app {name}"):
            poller = self.clients.container_apps.container_apps.begin_create_or_update(self.resource_group, name, body)
        self._progress.wait_for_poller(f"container app {name} (revision {suffix})", poller, self._timeout)
        self._provisioned(f"container app {name}")

    def _app_action(self, action: str) -> None:
        operations = self.clients.container_apps.container_apps
        begin = operations.begin_stop if action == "stop" else operations.begin_start
        with arm_operation(f"{action} of container app {self.names.app}"):
            poller = begin(self.resource_group, self.names.app)
        self._progress.wait_for_poller(f"container app {self.names.app} {action}", poller, self._timeout)

    # -- reading and verifying ------------------------------------------------------------------------------
    @property
    def revisions(self) -> AppTraffic:
        """The app's revisions: their state as ARM reports it, and the calls that move traffic between them."""
        return AppTraffic(self.clients, self.resource_group, self.names.app, self._progress, self._timeout)

    def _get_app(self) -> Any:
        apps = self.clients.container_apps.container_apps
        return get_or_none(
            f"reading container app {self.names.app}", lambda: apps.get(self.resource_group, self.names.app)
        )

    def _serving_name(self) -> str:
        name = self.revision or serving_revision(self._get_app())
        if not name:
            raise DeploymentError(f"container app {self.names.app} has no serving revision (deploy it first)")
        return name

    def _failed(self, name: str) -> bool:
        state = self.revisions.get(name)
        return state is None or state.failed

    def _settled(self, name: str) -> RevisionState | None:
        state = self.revisions.get(name)
        if state is not None and state.failed:
            raise DeploymentError(f"container app {self.names.app}: {state.describe()}")
        return state if state is not None and state.ready else None

    def _verify_revision(self, name: str) -> RevisionState:
        """Ready (its probes passed) with a deadline; a Failed revision ends the wait with ARM's reason."""
        return self._progress.wait_until(
            f"revision {name} ready",
            lambda: self._settled(name),
            timeout_s=self._project.deployment.startup_timeout_s,
            interval_s=1.0,
            last_seen=lambda: state.describe() if (state := self.revisions.get(name)) else "not listed yet",
        )

    def _verify(self, name: str) -> None:
        """The revision ready, then /health 200 through the app's ingress (https on Azure, http on the emulator)."""
        self._verify_revision(name)
        app = self._get_app()
        fqdn = app.properties.configuration.ingress.fqdn if app is not None else None
        if not fqdn:
            raise DeploymentError(f"container app {self.names.app} has no ingress FQDN")
        self._url = f"{self._azure.ingress_scheme}://{fqdn}"
        wait_for_http_ok(
            f"{self._url}/health",
            timeout_s=self._project.deployment.startup_timeout_s,
            interval_s=1.0,
            is_alive=lambda: not self._failed(name),
        )
        self._progress.say(f"[health] {self._url}/health answers 200; {name} serves")
