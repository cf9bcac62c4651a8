"""Microsoft.ContainerInstance/containerGroups: ACI's request checks, and groups that really run (in Docker).

On PUT the image must be accessible the way ACI checks it synchronously (400 InaccessibleImage otherwise): it lives
in the local registry, a registry resource with that login server exists, and the group's imageRegistryCredentials
match its admin credentials (or it allows anonymous pull). The long-running operation then pulls, starts the
containers on the group's own 127.0.0.N and succeeds once they are started. GET reports the address, instance
views from Docker and never echoes secureValue, registry passwords or the workspace key.
"""

import copy
import re
import threading
import uuid
from typing import Any, ClassVar

import httpx

from harness.arm_emulator.container_runtime import ContainerSpec, ContainerState, GroupSpec, RuntimeFailure
from harness.arm_emulator.errors import ArmError, invalid_property
from harness.arm_emulator.faults import FaultRule
from harness.arm_emulator.providers.base import ActionRequest, Completion, Context, Reply, ResourceKind
from harness.arm_emulator.providers.container_registry import Registries
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import Arr, Bool, Int, Map, Num, Obj, Str, required
from harness.arm_emulator.store import StoredResource

GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
CONTAINER_NAME = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
ENV_NAME = r"[-._a-zA-Z][-._a-zA-Z0-9]*"
DNS_LABEL = r"[a-z][a-z0-9-]{1,61}[a-z0-9]"
MAX_CPU, MAX_MEMORY_GB = 4.0, 16.0
CREATING = {"state": "Waiting", "detailStatus": "ContainerCreating"}
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)

PORT = Obj({"port": required(Int(minimum=1, maximum=65535)), "protocol": Str(enum=("TCP", "UDP"))})
PROBE = Obj(
    {
        "exec": Obj({"command": required(Arr(Str(), min_items=1))}),
        "httpGet": Obj(
            {
                "path": Str(),
                "port": required(Int(minimum=1, maximum=65535)),
                "scheme": Str(enum=("http", "https")),
                "httpHeaders": Arr(Obj({"name": Str(), "value": Str()})),
            }
        ),
        "initialDelaySeconds": Int(minimum=0),
        "periodSeconds": Int(minimum=1),
        "failureThreshold": Int(minimum=1),
        "successThreshold": Int(minimum=1),
        "timeoutSeconds": Int(minimum=1),
    }
)
RESOURCES = Obj(
    {
        "memoryInGB": required(Num(exclusive_minimum=0)),
        "cpu": required(Num(exclusive_minimum=0)),
        "gpu": Obj({"count": required(Int(minimum=1)), "sku": required(Str(enum=("K80", "P100", "V100")))}),
    }
)
CONTAINER = Obj(
    {
        "name": required(
            Str(pattern=CONTAINER_NAME, pattern_hint="must be 1-63 lowercase letters, digits and hyphens")
        ),
        "properties": required(
            Obj(
                {
                    "image": required(Str(min_length=1)),
                    "command": Arr(Str()),
                    "ports": Arr(PORT),
                    "environmentVariables": Arr(
                        Obj({"name": required(Str(pattern=ENV_NAME)), "value": Str(), "secureValue": Str()}),
                        unique_by="name",
                    ),
                    "resources": required(
                        Obj(
                            {
                                "requests": required(RESOURCES, code="ResourceRequestsNotSpecified"),
                                "limits": Obj(
                                    {"memoryInGB": Num(exclusive_minimum=0), "cpu": Num(exclusive_minimum=0)}
                                ),
                            }
                        ),
                        code="ResourceRequestsNotSpecified",
                    ),
                    "volumeMounts": Arr(
                        Obj({"name": required(Str()), "mountPath": required(Str(min_length=1)), "readOnly": Bool()})
                    ),
                    "livenessProbe": PROBE,
                    "readinessProbe": PROBE,
                }
            )
        ),
    }
)


def _registry_host(image: str) -> str:
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def _split_image(image: str) -> tuple[str, str]:
    """(repository path in its registry, tag or digest)."""
    _, _, path = image.partition("/")
    if "@" in path:
        repository, reference = path.split("@", 1)
        return repository, reference
    repository, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    return repository, tag


class ContainerGroups(ResourceKind):
    type = "Microsoft.ContainerInstance/containerGroups"
    put_style = "async"
    delete_style = "location"
    extra_fields: ClassVar[dict[str, Any]] = {
        "identity": Obj(
            {
                "type": Str(enum=("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None")),
                "userAssignedIdentities": Map(Obj({})),
            }
        ),
        "zones": Arr(Str()),
    }
    properties_schema: ClassVar[Obj] = Obj(
        {
            "containers": required(Arr(CONTAINER, min_items=1, max_items=60, unique_by="name")),
            "osType": required(Str(enum=("Windows", "Linux"), code="InvalidOsType"), code="InvalidOsType"),
            "restartPolicy": Str(enum=("Always", "OnFailure", "Never")),
            "imageRegistryCredentials": Arr(
                Obj(
                    {
                        "server": required(Str(min_length=1)),
                        "username": Str(),
                        "password": Str(),
                        "identity": Str(),
                        "identityUrl": Str(),
                    }
                )
            ),
            "ipAddress": Obj(
                {
                    "ports": required(Arr(PORT), code="MissingIpAddressPorts"),
                    "type": required(Str(enum=("Public", "Private"))),
                    "ip": Str(),
                    "dnsNameLabel": Str(
                        pattern=DNS_LABEL,
                        pattern_hint="must be 3-63 lowercase letters, digits and hyphens, starting with a letter",
                    ),
                    "autoGeneratedDomainNameLabelScope": Str(
                        enum=("Unsecure", "TenantReuse", "SubscriptionReuse", "ResourceGroupReuse", "Noreuse")
                    ),
                }
            ),
            "volumes": Arr(
                Obj(
                    {
                        "name": required(Str(min_length=1)),
                        "emptyDir": Obj({}),
                        "secret": Map(Str()),
                        "azureFile": Obj(
                            {
                                "shareName": required(Str()),
                                "storageAccountName": required(Str()),
                                "storageAccountKey": Str(),
                                "readOnly": Bool(),
                            }
                        ),
                    }
                ),
                unique_by="name",
            ),
            "diagnostics": Obj(
                {
                    "logAnalytics": Obj(
                        {
                            "workspaceId": required(Str(format="guid")),
                            "workspaceKey": required(Str(min_length=1)),
                            "logType": Str(enum=("ContainerInsights", "ContainerInstanceLogs")),
                            "metadata": Map(Str()),
                            "workspaceResourceId": Str(format="resource_id"),
                        }
                    )
                }
            ),
            "subnetIds": Arr(Obj({"id": required(Str(format="resource_id")), "name": Str()})),
            "dnsConfig": Obj(
                {"nameServers": required(Arr(Str(), min_items=1)), "searchDomains": Str(), "options": Str()}
            ),
            "sku": Str(enum=("Standard", "Dedicated", "Confidential")),
            "priority": Str(enum=("Regular", "Spot")),
        }
    )

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
        properties = body["properties"]
        containers = properties["containers"]
        exposed: set[tuple[int, str]] = set()
        cpu = memory = 0.0
        for index, container in enumerate(containers):
            path = f"properties.containers[{index}].properties"
            spec = container["properties"]
            for port in spec.get("ports") or []:
                exposed.add((port["port"], port.get("protocol", "TCP").upper()))
            for position, variable in enumerate(spec.get("environmentVariables") or []):
                has_value, has_secure = variable.get("value") is not None, variable.get("secureValue") is not None
                if has_value == has_secure:
                    raise invalid_property(
                        f"{path}.environmentVariables[{position}]",
                        f"({variable['name']}) must have exactly one of value or secureValue",
                    )
            requests = spec["resources"]["requests"]
            limits = spec["resources"].get("limits") or {}
            for key in ("cpu", "memoryInGB"):
                if key in limits and limits[key] < requests[key]:
                    raise invalid_property(
                        f"{path}.resources.limits.{key}", f"must not be below the request ({requests[key]})"
                    )
            cpu += requests["cpu"]
            memory += requests["memoryInGB"]
            for probe in ("livenessProbe", "readinessProbe"):
                if probe in spec and (("exec" in spec[probe]) == ("httpGet" in spec[probe])):
                    raise invalid_property(f"{path}.{probe}", "must have exactly one of exec or httpGet")
        if cpu > MAX_CPU or memory > MAX_MEMORY_GB:
            raise ArmError(
                400,
                "ServiceUnavailable",
                f"The requested resource with '{cpu:g}' CPU and '{memory:g}' GB memory is not available in the "
                f"location '{body['location']}' at this moment "
                f"(at most {MAX_CPU:g} CPU and {MAX_MEMORY_GB:g} GB per group).",
            )
        ip_address = properties.get("ipAddress")
        if ip_address is not None:
            if not ip_address["ports"]:
                raise ArmError(
                    400,
                    "MissingIpAddressPorts",
                    f"The ports in the 'ipAddress' of container group '{ref.name}' cannot be empty.",
                    target="properties.ipAddress.ports",
                )
            for position, port in enumerate(ip_address["ports"]):
                if (port["port"], port.get("protocol", "TCP").upper()) not in exposed:
                    raise invalid_property(
                        f"properties.ipAddress.ports[{position}]",
                        f"({port['port']}) is not exposed by any container (add it to a container's ports)",
                    )
            if ip_address["type"].lower() == "private" and not properties.get("subnetIds"):
                raise invalid_property("properties.subnetIds", "is required with a Private ipAddress")
        for position, credential in enumerate(properties.get("imageRegistryCredentials") or []):
            if not credential.get("identity") and not (credential.get("username") and credential.get("password")):
                raise invalid_property(
                    f"properties.imageRegistryCredentials[{position}]", "needs username and password, or identity"
                )
        volume_names = {volume["name"] for volume in properties.get("volumes") or []}
        for index, container in enumerate(containers):
            for position, mount in enumerate(container["properties"].get("volumeMounts") or []):
                if mount["name"] not in volume_names:
                    raise invalid_property(
                        f"properties.containers[{index}].properties.volumeMounts[{position}].name",
                        f"names no volume of the group: {mount['name']!r}",
                    )
        for container in containers:
            self._check_image(ref, container["properties"]["image"], properties, ctx)

    def _check_image(self, ref: ResourceRef, image: str, properties: dict[str, Any], ctx: Context) -> None:
        """ACI's synchronous image check: reachable registry, accepted credentials, existing manifest."""
        inaccessible = ArmError(
            400,
            "InaccessibleImage",
            f"The image '{image}' in container group '{ref.name}' is not accessible. "
            "Please check the image and registry credential.",
        )
        host = _registry_host(image)
        if ctx.settings.registry is None or host != ctx.settings.registry.lower():
            raise inaccessible
        registries = [
            resource
            for resource in ctx.store.all()
            if resource.type == Registries.type and resource.properties.get("loginServer", "").lower() == host
        ]
        credentials = [
            credential
            for credential in properties.get("imageRegistryCredentials") or []
            if credential["server"].lower() == host
        ]
        allowed = any(
            Registries.accepts(registry, credential.get("username"), credential.get("password"))
            or bool(credential.get("identity"))
            for registry in registries
            for credential in credentials or [{}]
        )
        if not allowed:
            raise inaccessible
        repository, reference = _split_image(image)
        try:
            response = httpx.head(
                f"http://{host}/v2/{repository}/manifests/{reference}", headers={"Accept": MANIFEST_TYPES}, timeout=5
            )
        except httpx.HTTPError:
            raise inaccessible from None
        if response.status_code != 200:
            raise inaccessible

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
