"""Microsoft.App/containerApps: apps whose revisions really run (in Docker) behind a local ingress.

The contract with code that deploys to it (and with Azure, where the emulator differs it says so):

- api-version 2026-07-01 (azure-mgmt-appcontainers 5.1). PUT is long-running (201 + Azure-AsyncOperation), PATCH
  too (202 + Location; a JSON merge: objects merged, lists replaced), DELETE 202 + Location.
- A PUT or PATCH that changes `properties.template` (image, env, resources, probes, scale, revisionSuffix...)
  creates revision `<app>--<suffix>` (`template.revisionSuffix`, else 7 random characters). The operation ends
  once that revision has settled: ready, or failed. It ends Succeeded either way (Azure may end it Failed with
  ContainerAppOperationError): read the revision's states, or compare `latestReadyRevisionName` with
  `latestRevisionName`, to know whether it runs.
- A revision is ready (provisioningState Provisioned, runningState Running, healthState Healthy) once every replica
  passed its startup and readiness probes. It is Failed (runningState Failed, healthState Unhealthy, and
  `provisioningError` saying why) when its container exits while starting (the exit code and last output), when
  the probes' deadline passes (initialDelaySeconds + periodSeconds * failureThreshold of startup plus readiness;
  240 s without probes), or when the app may not pull the image (see container_app_pulls: the system identity
  needs AcrPull on the registry; assign it, then restart the revision or create a new one).
- Each active revision starts max(1, scale.minReplicas) replicas, each a Docker container of the image on its own
  127.0.0.N publishing `ingress.targetPort`; env values and secretRefs are resolved. Once it is ready, its scale
  rules (http concurrentRequests, custom cpu/memory) move its replica count between max(1, minReplicas) and
  maxReplicas from the load its ingress measures and the CPU its containers use (app_scaler.py; no scale to zero),
  with Container Apps' timings times the scale clock (`--scale-clock`, PUT /_emulator/scale-clock).
  GET .../revisions/{name}/replicas lists them (runningState Running once ready).
- Addresses, plain HTTP (Azure's are HTTPS FQDNs: build `https://{fqdn}` there, `http://{fqdn}` here):
  `configuration.ingress.fqdn` is `127.0.0.N:<targetPort>`, the app's ingress, splitting requests by weight over
  ready revisions; `latestRevisionFqdn` and each revision's `fqdn` are `127.0.0.M:<targetPort>` listeners that
  send only to that revision. A label has no address of its own: send to the app's fqdn with the Host header
  `<app>---<label>.<environment defaultDomain>`. Every answer through the ingress carries the response header
  `x-ms-revision-name` and `x-ms-replica-name` (the emulator's additions; Azure sends neither) naming the revision
  and the replica that served it.
- Traffic: see app_host (`latestRevision: true` is the latest ready revision; Single mode moves all traffic to a
  new revision once it is ready, then deactivates the old one). A revision gets requests only while ready;
  deactivation stops new requests first, lets in-flight ones finish, then stops the containers.
- Faults (POST /_emulator/faults, `ArmEmulator.inject`): `crash_on_start` (with `exit_code`) and `never_ready`,
  matched on PUT or PATCH of Microsoft.App/containerApps, shape the revision that request creates.
"""

import copy
import random
import string
import threading
import uuid
from typing import Any, ClassVar

from harness.arm_emulator.app_host import AppConfig
from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.faults import FaultRule
from harness.arm_emulator.providers.base import ActionRequest, Completion, Context, Reply, ResourceKind
from harness.arm_emulator.providers.container_app_checks import (
    check_app,
    check_new_revision,
    environment_of,
    template_digest,
)
from harness.arm_emulator.providers.container_app_pulls import plan_factory
from harness.arm_emulator.providers.container_app_revisions import revision_action
from harness.arm_emulator.providers.container_app_schema import APP_FIELDS, APP_NAME, APP_PROPERTIES
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Obj
from harness.arm_emulator.store import StoredResource
from provisioning.waiting import wait_until

SETTLE_TIMEOUT_S = 3600.0
LATEST = [{"latestRevision": True, "weight": 100}]


def merge(current: Any, patch: Any) -> Any:
    """JSON merge: objects merged key by key (null deletes), anything else replaced."""
    if not isinstance(current, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(merged.get(key), value)
    return merged


class ContainerApps(ResourceKind):
    type = "Microsoft.App/containerApps"
    put_style = "async"
    delete_style = "location"
    patch_style = "location"
    extra_fields: ClassVar[dict[str, Any]] = APP_FIELDS
    properties_schema: ClassVar[Obj] = APP_PROPERTIES

    @staticmethod
    def environment_id(body: dict[str, Any]) -> str:
        return environment_of(body.get("properties") or {}) or ""

    # -- validation -----------------------------------------------------------------------------------------------
    def check_name(self, name: str) -> None:
        if not APP_NAME.match(name):
            raise ArmError(
                400,
                "ContainerAppInvalidName",
                f"Invalid ContainerApp name '{name}'. A name must consist of lower case alphanumeric characters or "
                "'-', start with an alphabetic character, and end with an alphanumeric character and cannot have "
                "'--'. The length must not be more than 32 characters.",
                target="containerAppName",
            )

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        stored = ctx.store.get(ref.key)
        revisions = list(stored.private.get("revisions", [])) if stored else []
        check_app(ref.name, body, ctx, revisions)
        digest = stored.private.get("template_digest") if stored else None
        check_new_revision(ref.name, body["properties"]["template"], digest, revisions)

    def merge_patch(self, current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = merge(
            current, {key: patch[key] for key in ("properties", "tags", "identity") if key in patch}
        )
        return merged

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties["provisioningState"] = "InProgress"
        properties["managedEnvironmentId"] = properties["environmentId"] = self.environment_id(resource.body)
        configuration = properties.setdefault("configuration", {})
        configuration.setdefault("activeRevisionsMode", "Single")
        ingress = configuration.get("ingress")
        if ingress is not None:
            ingress.setdefault("external", False)
            ingress.setdefault("transport", "Auto")
            ingress.setdefault("allowInsecure", False)
            if not ingress.get("traffic") or configuration["activeRevisionsMode"].lower() == "single":
                ingress["traffic"] = copy.deepcopy(LATEST)
        self._fill_identity(resource, previous, ctx)
        template = properties["template"]
        digest = template_digest(template)
        resource.private["pending_revision"] = None
        if resource.private.get("template_digest") != digest:
            suffix = template.get("revisionSuffix") or "".join(
                random.choices(string.ascii_lowercase + string.digits, k=7)
            )
            name = f"{resource.name}--{suffix}"
            resource.private["pending_revision"] = name
            resource.private["template_digest"] = digest
            resource.private["revisions"] = [*resource.private.get("revisions", []), name]
            resource.private["latest_revision"] = name

    @staticmethod
    def _fill_identity(resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        identity = resource.body.get("identity")
        if not identity:
            return
        identity["type"] = str(identity.get("type", "None")).replace(" ", "")
        if "systemassigned" in identity["type"].lower():
            kept = (previous.body.get("identity") or {}) if previous else {}
            identity["principalId"] = kept.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = ctx.settings.tenant_id
        for key in identity.get("userAssignedIdentities") or {}:
            identity["userAssignedIdentities"][key] = {
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, key.lower())),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, key.lower())),
            }

    def provision(
        self,
        resource: StoredResource,
        previous: StoredResource | None,
        complete: Completion,
        ctx: Context,
        fault: FaultRule | None,
    ) -> None:
        environment = ctx.store.get(self.environment_id(resource.body))
        domain = environment.properties.get("defaultDomain", "") if environment else ""
        configuration = resource.properties["configuration"]
        ingress = configuration.get("ingress")
        template = copy.deepcopy(resource.properties["template"])
        config = AppConfig(
            id=resource.id,
            name=resource.name,
            domain=domain,
            mode=configuration["activeRevisionsMode"].lower(),
            traffic=copy.deepcopy(ingress["traffic"]) if ingress else [],
            target_port=int(ingress["targetPort"]) if ingress else None,
            grace_s=float(template.get("terminationGracePeriodSeconds") or 30),
        )
        name = resource.private.get("pending_revision")
        shaped = (fault.kind, int(fault.params.get("exit_code", 1))) if fault is not None else None
        new = (name, template, plan_factory(ctx, resource.id, template, shaped)) if name else None
        threading.Thread(target=self._apply, args=(config, new, complete, ctx), daemon=True).start()

    @staticmethod
    def _apply(config: AppConfig, new: Any, complete: Completion, ctx: Context) -> None:
        try:
            revision = ctx.apps.apply(config, new)
            if revision is not None:
                wait_until(
                    revision.settled.is_set, what=f"revision {revision.name} to settle", where=config.name,
                    timeout_s=SETTLE_TIMEOUT_S, interval_s=0.1,
                )  # fmt: skip
        except Exception as error:  # a timeout or a Docker error: the operation reports it, as ARM's would
            complete("Failed", {"code": "ContainerAppOperationError", "message": f"{type(error).__name__}: {error}"})
            return
        complete("Succeeded", None)

    def on_delete(self, resource: StoredResource, ctx: Context) -> None:
        if ctx.runtime_started:
            ctx.apps.remove(resource.id)

    # -- reading --------------------------------------------------------------------------------------------------
    def render(self, resource: StoredResource, ctx: Context) -> dict[str, Any]:
        body = super().render(resource, ctx)
        properties = body["properties"]
        configuration = properties.get("configuration") or {}
        for secret in configuration.get("secrets") or []:
            secret.pop("value", None)
        view = ctx.apps.view(resource.id) if ctx.apps_started else {}
        properties["latestRevisionName"] = view.get("latest") or resource.private.get("latest_revision")
        properties["latestReadyRevisionName"] = view.get("latest_ready")
        properties["latestRevisionFqdn"] = view.get("latest_address") or ""
        stopped = ctx.apps_started and ctx.apps.stopped(resource.id)
        properties["runningStatus"] = "Stopped" if stopped else "Running" if view.get("latest_ready") else "Progressing"
        properties["outboundIpAddresses"] = ["127.0.0.1"]
        if configuration.get("ingress") is not None:
            configuration["ingress"]["fqdn"] = view.get("address") or ""
        return body

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        reply = revision_action(resource, request, ctx)
        if reply is not None:
            return reply
        if request.method == "POST" and request.path in (["stop"], ["start"]):
            return Reply(
                202, long_running=lambda complete: self._stop_or_start(resource, request.path[0], complete, ctx)
            )
        return super().action(resource, request, ctx)

    @staticmethod
    def _stop_or_start(resource: StoredResource, what: str, complete: Completion, ctx: Context) -> None:
        """Stop ends once routing has stopped (the replicas drain after); start once the revisions have settled."""
        if what == "stop":
            ctx.apps.stop(resource.id)
            complete("Succeeded", None)
            return

        def run() -> None:
            try:
                for revision in ctx.apps.start(resource.id):
                    wait_until(
                        revision.settled.is_set, what=f"revision {revision.name} to settle", where=resource.name,
                        timeout_s=SETTLE_TIMEOUT_S, interval_s=0.1,
                    )  # fmt: skip
            except Exception as error:  # a timeout or a Docker error: the operation reports it, as ARM's would
                complete(
                    "Failed", {"code": "ContainerAppOperationError", "message": f"{type(error).__name__}: {error}"}
                )
                return
            complete("Succeeded", None)

        threading.Thread(target=run, daemon=True).start()
