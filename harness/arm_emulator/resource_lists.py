"""ARM's list operations: resources by subscription, group and type, `$filter` and `$top`, and the role
definitions and assignments that apply at a scope.
"""

import copy
import re
from collections.abc import Mapping
from typing import Any

from harness.arm_emulator.errors import resource_group_not_found
from harness.arm_emulator.providers import Context, Reply, kind_of
from harness.arm_emulator.providers.authorization import BUILT_IN_ROLES, role_definition
from harness.arm_emulator.routes import RESOURCE_GROUPS_TYPE, CollectionRoute
from harness.arm_emulator.store import StoredResource

EXTENSION_TYPES = {"microsoft.authorization/roleassignments", "microsoft.authorization/roledefinitions"}
TAG_FILTER = re.compile(r"tagName\s+eq\s+'(?P<name>[^']*)'(\s+and\s+tagValue\s+eq\s+'(?P<value>[^']*)')?", re.I)
TYPE_FILTER = re.compile(r"resourceType\s+eq\s+'(?P<type>[^']*)'", re.I)
NAME_FILTER = re.compile(r"(?<![A-Za-z])name\s+eq\s+'(?P<name>[^']*)'", re.I)
PRINCIPAL_FILTER = re.compile(r"principalId\s+eq\s+'(?P<principal>[^']*)'", re.I)
ROLE_NAME_FILTER = re.compile(r"roleName\s+eq\s+'(?P<role>[^']*)'", re.I)


class ResourceLists:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def list_collection(self, route: CollectionRoute, query: Mapping[str, str]) -> Reply:
        type_lower = (route.type or "").lower()
        subscription_prefix = f"/subscriptions/{route.subscription}/".lower()
        if (
            route.resource_group is not None
            and self.store.get(f"/subscriptions/{route.subscription}/resourcegroups/{route.resource_group}") is None
            and route.scope is None
        ):
            raise resource_group_not_found(route.resource_group)
        if type_lower == "microsoft.authorization/roledefinitions":
            return Reply(200, {"value": self._role_definitions(route, query)})
        if type_lower == "microsoft.authorization/roleassignments":
            return Reply(200, {"value": self._role_assignments(route, query)})
        candidates = [resource for resource in self.store.all() if resource.key.startswith(subscription_prefix)]
        if route.type == RESOURCE_GROUPS_TYPE:
            selected = [resource for resource in candidates if resource.type == RESOURCE_GROUPS_TYPE]
        else:
            selected = [
                resource
                for resource in candidates
                if resource.type != RESOURCE_GROUPS_TYPE
                and resource.type.lower() not in EXTENSION_TYPES
                and (route.resource_group is None or resource.resource_group.lower() == route.resource_group.lower())
                and (route.type is None or resource.type.lower() == type_lower)
            ]
        selected = filter_resources(selected, query.get("$filter", ""))
        top = query.get("$top")
        if top and top.isdigit():
            selected = selected[: int(top)]
        if route.type is None:
            value = [generic_view(resource) for resource in selected]
        else:
            value = [self._render(resource) for resource in selected]
        return Reply(200, {"value": value})

    def _render(self, resource: StoredResource) -> dict[str, Any]:
        kind = kind_of(resource.type)
        assert kind is not None
        return kind.render(resource, self.ctx)

    def _role_definitions(self, route: CollectionRoute, query: Mapping[str, str]) -> list[dict[str, Any]]:
        definitions = [role_definition(route.subscription, guid) for guid in BUILT_IN_ROLES]
        role = ROLE_NAME_FILTER.search(query.get("$filter", ""))
        if role:
            definitions = [
                item for item in definitions if item["properties"]["roleName"].lower() == role["role"].lower()
            ]
        return definitions

    def _role_assignments(self, route: CollectionRoute, query: Mapping[str, str]) -> list[dict[str, Any]]:
        scope = (
            route.scope
            or (
                f"/subscriptions/{route.subscription}/resourceGroups/{route.resource_group}"
                if route.resource_group
                else f"/subscriptions/{route.subscription}"
            )
        ).lower()
        expression = query.get("$filter", "")
        at_scope = "atscope()" in expression.lower()
        principal = PRINCIPAL_FILTER.search(expression)
        found = []
        for resource in self.store.all():
            if resource.type != "Microsoft.Authorization/roleAssignments":
                continue
            assigned = resource.properties["scope"].lower()
            above = scope == assigned or scope.startswith(assigned.rstrip("/") + "/")
            below = assigned.startswith(scope.rstrip("/") + "/")
            if not (above or (below and not at_scope)):
                continue
            if principal and resource.properties["principalId"].lower() != principal["principal"].lower():
                continue
            found.append(self._render(resource))
        return found


def filter_resources(resources: list[StoredResource], expression: str) -> list[StoredResource]:
    """The resources an OData `$filter` of tagName/tagValue, resourceType and name selects."""
    if not expression:
        return resources
    tag = TAG_FILTER.search(expression)
    if tag:
        name, value = tag["name"], tag["value"]
        resources = [
            resource
            for resource in resources
            if any(
                key.lower() == name.lower() and (value is None or str(tag_value) == value)
                for key, tag_value in (resource.body.get("tags") or {}).items()
            )
        ]
    resource_type = TYPE_FILTER.search(expression)
    if resource_type:
        resources = [resource for resource in resources if resource.type.lower() == resource_type["type"].lower()]
    name_match = NAME_FILTER.search(expression)
    if name_match:
        resources = [resource for resource in resources if resource.name.lower() == name_match["name"].lower()]
    return resources


def generic_view(resource: StoredResource) -> dict[str, Any]:
    """A resource as `GET .../resources` lists it (GenericResourceExpanded)."""
    generic: dict[str, Any] = {
        key: copy.deepcopy(resource.body[key])
        for key in ("id", "name", "type", "location", "tags", "kind", "sku", "identity")
        if key in resource.body
    }
    generic["provisioningState"] = resource.provisioning_state
    return generic
