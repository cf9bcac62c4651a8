"""What every emulated resource type has in common, and the hooks a resource provider overrides."""

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.lro import Status
from harness.arm_emulator.routes import ResourceRef
from harness.arm_emulator.schema import TAGS, Obj, Str, required
from harness.arm_emulator.settings import EmulatorSettings
from harness.arm_emulator.store import ResourceStore, StoredResource

if TYPE_CHECKING:
    from harness.arm_emulator.app_host import AppHost
    from harness.arm_emulator.container_runtime import ContainerRuntime
    from harness.arm_emulator.faults import FaultRule

# Public Azure regions by their ARM names; display names ("West Europe") are accepted and normalised.
REGIONS = (
    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus", "southcentralus",
    "westcentralus", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral", "northeurope", "westeurope",
    "uksouth", "ukwest", "francecentral", "germanywestcentral", "norwayeast", "swedencentral", "switzerlandnorth",
    "polandcentral", "italynorth", "spaincentral", "eastasia", "southeastasia", "japaneast", "japanwest",
    "koreacentral", "australiaeast", "australiasoutheast", "centralindia", "southindia", "uaenorth",
    "southafricanorth", "qatarcentral", "israelcentral", "newzealandnorth",
)  # fmt: skip


def normalise_location(location: str) -> str:
    return location.replace(" ", "").lower()


# Called once when a long-running operation ends: the final status and, when Failed, ARM's error object.
Completion = Callable[[Status, dict[str, Any] | None], None]


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # A long-running action: the manager starts an operation, answers 202 + Azure-AsyncOperation, and calls this.
    long_running: Callable[[Completion], None] | None = None


@dataclass(frozen=True)
class ActionRequest:
    method: str
    sub_path: tuple[str, ...]
    body: Any
    query: Mapping[str, str]

    @property
    def path(self) -> list[str]:
        """`sub_path` lower-cased, for matching."""
        return [part.lower() for part in self.sub_path]


@dataclass
class Context:
    """What providers may use: settings, the store, the public endpoint and (lazily) the container runtime and the
    host of container apps' revisions and ingress."""

    settings: EmulatorSettings
    store: ResourceStore
    endpoint: str
    _runtime: "ContainerRuntime | None" = None
    _runtime_lock: threading.Lock = field(default_factory=threading.Lock)
    _apps: "AppHost | None" = None
    scale_clock: float = 1.0  # the factor on Container Apps' scaling timings (app_scaler.py); the control API sets it

    def __post_init__(self) -> None:
        self.scale_clock = self.settings.scale_clock

    @property
    def runtime(self) -> "ContainerRuntime":
        with self._runtime_lock:
            if self._runtime is None:
                from harness.arm_emulator.container_runtime import ContainerRuntime

                self._runtime = ContainerRuntime(self.settings.instance)
            return self._runtime

    @property
    def runtime_started(self) -> bool:
        return self._runtime is not None

    @property
    def apps(self) -> "AppHost":
        runtime = self.runtime
        with self._runtime_lock:
            if self._apps is None:
                from harness.arm_emulator.app_host import AppHost

                self._apps = AppHost(runtime, scale_clock=lambda: self.scale_clock)
            return self._apps

    @property
    def apps_started(self) -> bool:
        return self._apps is not None

    def existing(self, resource_id: str, expected_type: str | None = None) -> StoredResource | None:
        resource = self.store.get(resource_id)
        if resource is None or (expected_type and resource.type.lower() != expected_type.lower()):
            return None
        return resource


class ResourceKind:
    """One resource type. `put_style`: "sync" (the PUT answers the final resource), "async" (201 +
    Azure-AsyncOperation) or "location" (202 + Location). `delete_style`: "sync" (200/204) or "location"."""

    type: ClassVar[str]
    put_style: ClassVar[Literal["sync", "async", "location"]] = "sync"
    delete_style: ClassVar[Literal["sync", "location"]] = "sync"
    # "sync": PATCH answers 200 with the merged resource; "location": 202 + Location, and `provision` runs as for a PUT.
    patch_style: ClassVar[Literal["sync", "location"]] = "sync"
    create_status: ClassVar[int] = 201
    # "regional" (an Azure region), "global" (only "global"/"Global"), or "none" (no location, e.g. role assignments)
    location_kind: ClassVar[Literal["regional", "global", "none"]] = "regional"
    properties_schema: ClassVar[Obj] = Obj()
    properties_required: ClassVar[bool] = True
    extra_fields: ClassVar[dict[str, Any]] = {}
    # Methods `action` answers on paths below a resource (child resources need PUT and DELETE as well).
    sub_path_methods: ClassVar[tuple[str, ...]] = ("GET", "POST")

    @property
    def schema(self) -> Obj:
        fields: dict[str, Any] = {"tags": TAGS, **self.extra_fields}
        if self.location_kind != "none":
            fields["location"] = required(Str(min_length=1))
        fields["properties"] = required(self.properties_schema) if self.properties_required else self.properties_schema
        return Obj(fields)

    # -- validation -------------------------------------------------------------------------------------------
    def check_name(self, name: str) -> None:
        """Raise ArmError when `name` breaks this type's naming rules."""

    def validate(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        """Schema first, then location, then rules that need more than one property (or the store)."""
        self.check_name(ref.name)
        self.schema.check(body, "")
        if self.location_kind == "regional":
            location = normalise_location(body["location"])
            if location not in REGIONS:
                raise ArmError(
                    400,
                    "LocationNotAvailableForResourceType",
                    f"The provided location '{body['location']}' is not available for resource type "
                    f"'{self.type}'. List of available regions for the resource type is '{','.join(REGIONS)}'.",
                    target="location",
                )
        elif self.location_kind == "global" and str(body["location"]).lower() != "global":
            raise ArmError(
                400,
                "LocationNotAvailableForResourceType",
                f"The provided location '{body['location']}' is not available for resource type '{self.type}'. "
                "List of available regions for the resource type is 'global'.",
                target="location",
            )
        self.check_semantics(ref, body, ctx)

    def check_semantics(self, ref: ResourceRef, body: dict[str, Any], ctx: Context) -> None:
        """Cross-property and cross-resource rules; override per type."""

    def merge_patch(self, current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """The body a PATCH leaves: `properties` merged one level deep; tags, sku, identity and kind replaced."""
        merged = copy.deepcopy(current)
        for key, value in patch.items():
            if key == "properties" and isinstance(value, dict):
                merged.setdefault("properties", {}).update(value)
            elif key in ("tags", "sku", "identity", "kind"):
                merged[key] = value
        return merged

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def materialize(
        self, ref: ResourceRef, body: dict[str, Any], previous: StoredResource | None, ctx: Context
    ) -> StoredResource:
        """The stored resource for a valid PUT: the request body plus id/name/type and read-only properties."""
        stored_body = copy.deepcopy(body)
        stored_body.pop("id", None)
        stored_body["id"] = ref.id(self.type)
        stored_body["name"] = ref.name
        stored_body["type"] = self.type
        if self.location_kind == "regional":
            stored_body["location"] = normalise_location(body["location"])
        properties = stored_body.setdefault("properties", {})
        properties.pop("provisioningState", None)
        resource = StoredResource(
            id=ref.id(self.type),
            type=self.type,
            name=ref.name,
            resource_group=ref.resource_group,
            body=stored_body,
            private=copy.deepcopy(previous.private) if previous else {},
        )
        self.fill_read_only(resource, previous, ctx)
        return resource

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        """Set the read-only properties ARM computes (keys, endpoints, ids); keep them stable across updates."""

    def provision(
        self,
        resource: StoredResource,
        previous: StoredResource | None,
        complete: Completion,
        ctx: Context,
        fault: "FaultRule | None",
    ) -> None:
        """Do the work of a long-running PUT, then call `complete` (from any thread). Default: done after settle_s."""
        timer = threading.Timer(ctx.settings.settle_s, complete, args=("Succeeded", None))
        timer.daemon = True
        timer.start()

    def on_delete(self, resource: StoredResource, ctx: Context) -> None:
        """Release what the resource holds outside the store (containers). Must be idempotent."""

    def render(self, resource: StoredResource, ctx: Context) -> dict[str, Any]:
        """The body of a GET: the stored body (providers add live state and hide secrets)."""
        return copy.deepcopy(resource.body)

    def action(self, resource: StoredResource, request: "ActionRequest", ctx: Context) -> Reply:
        """POST actions (listCredentials, sharedKeys...) and GET sub-resources (containers/{name}/logs)."""
        what = "/".join(request.sub_path)
        if request.method == "GET":
            raise ArmError(404, "InvalidResourceType", f"The resource type '{self.type}' has no '{what}' sub-resource.")
        raise ArmError(400, "InvalidAction", f"The resource type '{self.type}' has no '{what}' action.")
