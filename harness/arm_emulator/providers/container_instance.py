"""Microsoft.ContainerInstance/containerGroups: groups that really run (in Docker), as ACI runs and reports them.

A PUT is checked by container_group_schema and container_group_checks (400 InaccessibleImage when ACI could not
pull the image). The long-running operation then pulls, starts the containers on the group's own 127.0.0.N and
succeeds once they are started. GET reports the address, instance views from Docker and never echoes
secureValue, registry passwords or the workspace key.
"""

import copy
import threading
import uuid
from typing import Any, ClassVar

from harness.arm_emulator.container_specs import ContainerSpec, GroupSpec, RuntimeFailure
from harness.arm_emulator.container_state import ContainerState
from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.faults import FaultRule
from harness.arm_emulator.providers.base import ActionRequest, Completion, Context, Reply, ResourceKind
from harness.arm_emulator.providers.container_group_checks import check_group
from harness.arm_emulator.providers.container_group_schema import GROUP_FIELDS, GROUP_NAME, GROUP_PROPERTIES
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Obj
from harness.arm_emulator.store import StoredResource

CREATING = {"state": "Waiting", "detailStatus": "ContainerCreating"}


class ContainerGroups(ResourceKind):
    type = "Microsoft.ContainerInstance/containerGroups"
    put_style = "async"
    delete_style = "location"
    extra_fields: ClassVar[dict[str, Any]] = GROUP_FIELDS
    properties_schema: ClassVar[Obj] = GROUP_PROPERTIES

    # -- validation -----------------------------------------------------------------------------------------------
    def check_name(self, name: str) -> None:
        if not GROUP_NAME.match(name):
            raise ArmError(
                400,
                "InvalidResourceName",
                f"The container group name '{name}' is invalid: 1-63 lowercase letters, digits and hyphens, "
                "starting and ending with a letter or digit.",
                target="containerGroupName",
            )

    def validate(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        properties = body.get("properties") if isinstance(body, dict) else None
        if isinstance(properties, dict) and properties.get("osType") is None:
            raise ArmError(
                400,
                "InvalidOsType",
                f"The 'osType' for container group '{ref.name}' is invalid. The value must be one of 'Windows,Linux'.",
                target="properties.osType",
            )
        super().validate(ref, body, ctx)

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        check_group(ref, body, ctx)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties.setdefault("restartPolicy", "Always")
        properties.setdefault("sku", "Standard")
        properties["provisioningState"] = "Updating" if previous else "Pending"
        identity = resource.body.get("identity")
        if identity and "systemassigned" in identity.get("type", "").lower().replace(" ", ""):
            kept = (previous.body.get("identity") or {}) if previous else {}
            identity["principalId"] = kept.get("principalId") or str(uuid.uuid4())
            identity["tenantId"] = ctx.settings.tenant_id
        resource.private["spec"] = copy.deepcopy(
            {key: value for key, value in properties.items() if key not in {"provisioningState", "instanceView"}}
        )

    def provision(
        self,
        resource: StoredResource,
        previous: StoredResource | None,
        complete: Completion,
        ctx: Context,
        fault: FaultRule | None,
    ) -> None:
        unchanged = (
            previous is not None
            and previous.provisioning_state == "Succeeded"
            and previous.private.get("spec") == resource.private["spec"]
            and ctx.runtime.ip_of(resource.id) is not None
        )
        if unchanged:
            timer = threading.Timer(ctx.settings.settle_s, complete, args=("Succeeded", None))
            timer.daemon = True
            timer.start()
            return
        spec = self._group_spec(resource, fault)
        worker = threading.Thread(target=self._deploy, args=(spec, resource, complete, ctx), daemon=True)
        worker.start()

    @staticmethod
    def _deploy(spec: GroupSpec, resource: StoredResource, complete: Completion, ctx: Context) -> None:
        try:
            ctx.runtime.deploy(spec)
        except RuntimeFailure as failure:
            complete("Failed", {"code": failure.code, "message": failure.message})
            return
        except Exception as error:  # Docker errors of any kind end the operation, as ACI's would
            complete(
                "Failed", {"code": "ContainerGroupDeploymentFailed", "message": f"{type(error).__name__}: {error}"}
            )
            return
        complete("Succeeded", None)

    def _group_spec(self, resource: StoredResource, fault: FaultRule | None) -> GroupSpec:
        properties = resource.properties
        containers = []
        for container in properties["containers"]:
            spec = container["properties"]
            limits = spec["resources"].get("limits") or {}
            requests = spec["resources"]["requests"]
            env = {}
            for variable in spec.get("environmentVariables") or []:
                value = variable.get("value") if variable.get("value") is not None else variable.get("secureValue")
                env[variable["name"]] = str(value)
            containers.append(
                ContainerSpec(
                    name=container["name"],
                    image=spec["image"],
                    env=env,
                    command=spec.get("command") or None,
                    cpu=float(limits.get("cpu", requests["cpu"])),
                    memory_gb=float(limits.get("memoryInGB", requests["memoryInGB"])),
                )
            )
        ip_address = properties.get("ipAddress") or {}
        auth = {
            credential["server"].lower(): {"username": credential["username"], "password": credential["password"]}
            for credential in properties.get("imageRegistryCredentials") or []
            if credential.get("username") and credential.get("password")
        }
        return GroupSpec(
            resource_id=resource.id,
            name=resource.name,
            containers=containers,
            ports=[(port["port"], port.get("protocol", "TCP")) for port in ip_address.get("ports") or []],
            restart_policy=properties["restartPolicy"],
            registry_auth=auth,
            crash_exit_code=int(fault.params.get("exit_code", 1)) if fault and fault.kind == "crash_on_start" else None,
        )

    def on_delete(self, resource: StoredResource, ctx: Context) -> None:
        if ctx.runtime_started:
            ctx.runtime.remove(resource.id)

    # -- reading --------------------------------------------------------------------------------------------------
    def render(self, resource: StoredResource, ctx: Context) -> dict[str, Any]:
        body = super().render(resource, ctx)
        properties = body["properties"]
        for container in properties["containers"]:
            for variable in container["properties"].get("environmentVariables") or []:
                variable.pop("secureValue", None)
        for credential in properties.get("imageRegistryCredentials") or []:
            credential.pop("password", None)
        log_analytics = (properties.get("diagnostics") or {}).get("logAnalytics")
        if log_analytics:
            log_analytics.pop("workspaceKey", None)
        ip = ctx.runtime.ip_of(resource.id) if ctx.runtime_started else None
        if properties.get("ipAddress") is not None and ip:
            properties["ipAddress"]["ip"] = ip
            if properties["ipAddress"].get("dnsNameLabel"):
                properties["ipAddress"]["fqdn"] = (
                    f"{properties['ipAddress']['dnsNameLabel']}.{body['location']}.azurecontainer.io"
                )
        if ip and ctx.runtime_started:
            self._add_instance_view(resource, properties, ctx)
        return body

    @staticmethod
    def _add_instance_view(resource: StoredResource, properties: dict[str, Any], ctx: Context) -> None:
        states = ctx.runtime.states(resource.id)
        views = []
        for container in properties["containers"]:
            state = states.get(container["name"])
            view = _instance_view(state) if state else {"restartCount": 0, "currentState": CREATING}
            view["events"] = ctx.runtime.events(resource.id, container["name"])
            container["properties"]["instanceView"] = view
            views.append(view)
        group_state = "Stopped" if ctx.runtime.is_stopped(resource.id) else _group_state(views)
        properties["instanceView"] = {"events": [], "state": group_state}

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        path = request.path
        if request.method == "GET" and len(path) == 3 and path[0] == "containers" and path[2] == "logs":
            return Reply(200, {"content": self._logs(resource, request, ctx)})
        if request.method == "POST" and path in (["stop"], ["restart"]):
            if ctx.runtime_started:
                (ctx.runtime.stop if path == ["stop"] else ctx.runtime.restart)(resource.id)
            return Reply(204)
        if request.method == "POST" and path == ["start"]:
            return Reply(202, long_running=lambda complete: self._start(resource, complete, ctx))
        return super().action(resource, request, ctx)

    @staticmethod
    def _logs(resource: StoredResource, request: ActionRequest, ctx: Context) -> str:
        container_name = request.sub_path[1]
        if container_name not in [container["name"] for container in resource.properties["containers"]]:
            raise ArmError(
                404,
                "ContainerNotFound",
                f"The container '{container_name}' in container group '{resource.name}' was not found.",
            )
        tail = request.query.get("tail")
        if tail is not None and not tail.isdigit():
            raise ArmError(400, "InvalidParameter", f"'tail' must be a whole number, not {tail!r}.")
        timestamps = request.query.get("timestamps", "false").lower() == "true"
        if not ctx.runtime_started:
            return ""
        return (
            ctx.runtime.logs(resource.id, container_name, tail=int(tail) if tail else None, timestamps=timestamps) or ""
        )

    @staticmethod
    def _start(resource: StoredResource, complete: Completion, ctx: Context) -> None:
        def run() -> None:
            try:
                ctx.runtime.start(resource.id)
            except Exception as error:  # a Docker failure ends the operation Failed, as ACI's would
                complete("Failed", {"code": "ContainerGroupStartFailed", "message": f"{type(error).__name__}: {error}"})
                return
            complete("Succeeded", None)

        threading.Thread(target=run, daemon=True).start()


def _group_state(views: list[dict[str, Any]]) -> str:
    """The group's state from its containers': Running while one runs, Succeeded/Failed once all ended."""
    current = [view["currentState"] for view in views]
    if any(state["state"] == "Running" for state in current):
        return "Running"
    if current and all(state["state"] == "Terminated" for state in current):
        return "Succeeded" if all(state.get("exitCode") == 0 for state in current) else "Failed"
    return "Pending"


def _instance_view(state: ContainerState) -> dict[str, Any]:
    """ACI's container instance view from Docker's state."""
    ended = {
        "state": "Terminated",
        "exitCode": state.last_exit_code,
        "finishTime": state.finished_at,
        "detailStatus": "Completed" if state.last_exit_code == 0 else "Error",
    }
    view: dict[str, Any] = {"restartCount": state.restart_count}
    if state.status == "running":
        view["currentState"] = {"state": "Running", "startTime": state.started_at, "detailStatus": ""}
        if state.restart_count:
            view["previousState"] = ended
    elif state.status == "restarting":
        view["currentState"] = {
            "state": "Waiting",
            "detailStatus": "CrashLoopBackOff: Back-off restarting failed container",
        }
        view["previousState"] = ended
    elif state.status in ("exited", "dead"):
        view["currentState"] = {**ended, "startTime": state.started_at}
    else:
        view["currentState"] = dict(CREATING)
    return view
