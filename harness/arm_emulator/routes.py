"""ARM request paths, parsed into what they address. ARM matches path segments case-insensitively."""

from dataclasses import dataclass
from urllib.parse import unquote

from harness.arm_emulator.errors import ArmError

RESOURCE_GROUPS_TYPE = "Microsoft.Resources/resourceGroups"


@dataclass(frozen=True)
class ResourceRef:
    """One resource: a resource group, a provider resource in a group, or an extension resource on a scope."""

    subscription: str
    resource_group: str
    type: str  # "Namespace/type" as the request spelled it; the provider registry knows the canonical casing
    name: str
    scope: str | None = None  # extension resources (role assignments): the id of the resource they extend

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]

    @property
    def is_resource_group(self) -> bool:
        return self.type.lower() == RESOURCE_GROUPS_TYPE.lower()

    def id(self, canonical_type: str | None = None) -> str:
        resource_type = canonical_type or self.type
        group = f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
        if self.is_resource_group:
            return group
        namespace, type_name = resource_type.split("/", 1)
        base = self.scope if self.scope is not None else group
        return f"{base}/providers/{namespace}/{type_name}/{self.name}"

    @property
    def key(self) -> str:
        return self.id().lower()

    @property
    def group_key(self) -> str:
        return f"/subscriptions/{self.subscription}/resourcegroups/{self.resource_group}".lower()


@dataclass(frozen=True)
class ResourceRoute:
    ref: ResourceRef
    sub_path: tuple[str, ...] = ()  # after the resource name: an action ("listCredentials") or a child path

    @property
    def subscription(self) -> str:
        return self.ref.subscription


@dataclass(frozen=True)
class CollectionRoute:
    """A list: resource groups, resources in a group or subscription, or one type in a scope."""

    subscription: str
    resource_group: str | None
    type: str | None  # None = every type ("/resources"), RESOURCE_GROUPS_TYPE = resource groups
    scope: str | None = None  # extension collections (role assignments at a scope)


@dataclass(frozen=True)
class ProviderRoute:
    subscription: str
    namespace: str
    action: str | None  # "register", "unregister" or None (GET the provider)


@dataclass(frozen=True)
class OperationRoute:
    subscription: str
    namespace: str
    location: str
    style: str  # "operations" (Azure-AsyncOperation) or "operationresults" (Location)
    operation_id: str


@dataclass(frozen=True)
class SubscriptionRoute:
    subscription: str


@dataclass(frozen=True)
class DeletedVaultRoute:
    """A soft-deleted key vault: `/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}[/purge]`."""

    subscription: str
    location: str
    name: str
    purge: bool


Route = ResourceRoute | CollectionRoute | ProviderRoute | OperationRoute | SubscriptionRoute | DeletedVaultRoute


def _unknown(path: str) -> ArmError:
    return ArmError(404, "InvalidRequestUri", f"The request URI '{path}' is not handled by this resource manager.")


def parse_path(path: str) -> Route:
    """Parse an ARM path (no query string) into a route; raises ArmError for paths ARM would not serve."""
    segments = [unquote(part) for part in path.split("/") if part]
    lowered = [part.lower() for part in segments]
    if len(segments) < 2 or lowered[0] != "subscriptions":
        raise _unknown(path)
    subscription, rest, rest_lower = segments[1], segments[2:], lowered[2:]
    if not rest:
        return SubscriptionRoute(subscription)
    if rest_lower[0] == "resourcegroups":
        if len(rest) == 1:
            return CollectionRoute(subscription, None, RESOURCE_GROUPS_TYPE)
        group = rest[1]
        tail, tail_lower = rest[2:], rest_lower[2:]
        if not tail:
            return ResourceRoute(ResourceRef(subscription, group, RESOURCE_GROUPS_TYPE, group))
        if tail_lower == ["resources"]:
            return CollectionRoute(subscription, group, None)
        if tail_lower[0] == "providers" and len(tail) >= 3:
            group_id = f"/subscriptions/{subscription}/resourceGroups/{group}"
            return _provider_path(path, subscription, group, group_id, tail[1:])
        raise _unknown(path)
    if rest_lower == ["resources"]:
        return CollectionRoute(subscription, None, None)
    if rest_lower[0] == "providers" and len(rest) >= 2:
        namespace = rest[1]
        tail_lower = rest_lower[2:]
        if not tail_lower:
            return ProviderRoute(subscription, namespace, None)
        if tail_lower in (["register"], ["unregister"]):
            return ProviderRoute(subscription, namespace, tail_lower[0])
        if (
            len(tail_lower) == 4
            and tail_lower[0] == "locations"
            and tail_lower[2] in ("operations", "operationresults")
        ):
            return OperationRoute(subscription, namespace, rest[3], tail_lower[2], rest[5])
        if (
            namespace.lower() == "microsoft.keyvault"
            and len(tail_lower) in (4, 5)
            and tail_lower[0] == "locations"
            and tail_lower[2] == "deletedvaults"
            and (len(tail_lower) == 4 or tail_lower[4] == "purge")
        ):
            return DeletedVaultRoute(subscription, rest[3], rest[5], purge=len(tail_lower) == 5)
        if len(rest) == 3:
            return CollectionRoute(subscription, None, f"{namespace}/{rest[2]}")
        if namespace.lower() == "microsoft.authorization":
            return _provider_path(path, subscription, None, f"/subscriptions/{subscription}", rest[1:])
    raise _unknown(path)


def _provider_path(path: str, subscription: str, group: str | None, scope_id: str, parts: list[str]) -> Route:
    """`parts` follows a `/providers/` segment: Namespace/type[/name[/sub/path...]], maybe on an extended scope."""
    lowered = [part.lower() for part in parts]
    if "providers" in lowered[1:]:
        split = lowered.index("providers", 1)
        base, extension = parts[:split], parts[split + 1 :]
        if len(base) < 3 or len(extension) < 2:
            raise _unknown(path)
        extended_scope = f"{scope_id}/providers/{'/'.join(base)}"
        return _extension(path, subscription, group, extended_scope, extension)
    if scope_id == f"/subscriptions/{subscription}" or group is None:
        return _extension(path, subscription, group, scope_id, parts)
    if len(parts) == 2:
        return CollectionRoute(subscription, group, f"{parts[0]}/{parts[1]}")
    ref = ResourceRef(subscription, group, f"{parts[0]}/{parts[1]}", parts[2])
    return ResourceRoute(ref, tuple(parts[3:]))


def _extension(path: str, subscription: str, group: str | None, scope: str, parts: list[str]) -> Route:
    """An extension resource (Microsoft.Authorization/roleAssignments/{name}) or its collection on `scope`."""
    if len(parts) == 2:
        return CollectionRoute(subscription, group, f"{parts[0]}/{parts[1]}", scope=scope)
    if len(parts) == 3:
        return ResourceRoute(ResourceRef(subscription, group or "", f"{parts[0]}/{parts[1]}", parts[2], scope=scope))
    raise _unknown(path)
