"""ARM's semantics over the store: PUT/GET/HEAD/PATCH/DELETE, actions and long-running operations.

HTTP concerns (auth, api-versions, faults, logging, JSON) live in server.py and lists in resource_lists.py; this
module answers the other routes.
"""

import copy
import threading
from collections.abc import Mapping
from typing import Any

from harness.arm_emulator.api_versions import supported_version
from harness.arm_emulator.errors import ArmError, resource_group_not_found, resource_not_found
from harness.arm_emulator.faults import FaultRule
from harness.arm_emulator.lro import Operation, OperationBook, Status, Style
from harness.arm_emulator.providers import KINDS, ActionRequest, Completion, Context, Reply, ResourceKind, kind_of
from harness.arm_emulator.providers.authorization import BUILT_IN_ROLES, role_definition
from harness.arm_emulator.routes import (
    RESOURCE_GROUPS_TYPE,
    OperationRoute,
    ProviderRoute,
    ResourceRef,
    ResourceRoute,
    SubscriptionRoute,
)
from harness.arm_emulator.store import StoredResource


def _group_being_deleted(name: str) -> ArmError:
    return ArmError(
        409,
        "ResourceGroupBeingDeleted",
        f"The resource group '{name}' is in deprovisioning state and cannot perform this operation.",
    )


def default_lro_error(fault: FaultRule) -> dict[str, str]:
    return {
        "code": str(fault.params.get("code", "ResourceDeploymentFailure")),
        "message": str(
            fault.params.get("message", "The resource operation completed with terminal provisioning state 'Failed'.")
        ),
    }


class ResourceManager:
    def __init__(self, ctx: Context, operations: OperationBook) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.operations = operations

    # -- helpers --------------------------------------------------------------------------------------------------
    def _lro_headers(self, operation: Operation, style: Style) -> dict[str, str]:
        header = "Azure-AsyncOperation" if style == "operations" else "Location"
        return {header: operation.url(self.ctx.endpoint, style), "Retry-After": str(self.ctx.settings.retry_after_s)}

    def _start_operation(
        self, ref: ResourceRef, kind: ResourceKind, method: str, api_version: str, location: str
    ) -> Operation:
        return self.operations.start(
            subscription=ref.subscription,
            namespace=kind.type.split("/", 1)[0],
            location=location or "global",
            api_version=api_version,
            method=method,
            resource_id=ref.id(kind.type),
            resource_type=kind.type,
        )

    def _check_group(self, ref: ResourceRef) -> None:
        """Resources live in an existing resource group that is not being deleted."""
        if ref.is_resource_group or not ref.resource_group:
            return
        group = self.store.get(ref.group_key)
        if group is None:
            raise resource_group_not_found(ref.resource_group)
        if group.provisioning_state == "Deleting":
            raise _group_being_deleted(ref.resource_group)

    def _missing(self, ref: ResourceRef, kind: ResourceKind) -> ArmError:
        if ref.is_resource_group:
            return resource_group_not_found(ref.name)
        if ref.resource_group and self.store.get(ref.group_key) is None:
            return resource_group_not_found(ref.resource_group)
        return resource_not_found(kind.type, ref.name, ref.resource_group or "-")

    def _require(self, ref: ResourceRef, kind: ResourceKind) -> StoredResource:
        resource = self.store.get(ref.key)
        if resource is None:
            raise self._missing(ref, kind)
        return resource

    def _completion(self, resource: StoredResource, operation: Operation) -> Completion:
        """Ends `operation` and, if `resource` is still the stored one, sets its provisioningState."""

        def complete(status: Status, error: dict[str, Any] | None) -> None:
            with self.store.locked():
                if self.store.get(resource.key) is resource:
                    resource.properties["provisioningState"] = "Succeeded" if status == "Succeeded" else "Failed"
            operation.finish(status, error)

        return complete

    # -- resources ------------------------------------------------------------------------------------------------
    def put(self, ref: ResourceRef, kind: ResourceKind, body: Any, api_version: str, fault: FaultRule | None) -> Reply:
        if not isinstance(body, dict):
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: expected a JSON object.",
            )
        self._check_group(ref)
        kind.validate(ref, body, self.ctx)
        with self.store.locked():
            self._check_group(ref)
            previous = self.store.get(ref.key)
            if previous is not None and previous.provisioning_state == "Deleting":
                if ref.is_resource_group:
                    raise _group_being_deleted(ref.name)
                raise ArmError(409, "Conflict", f"The resource '{ref.name}' is being deleted.")
            resource = kind.materialize(ref, body, previous, self.ctx)
            synchronous = kind.put_style == "sync" or (kind.put_style == "location" and previous is not None)
            if synchronous:
                resource.properties["provisioningState"] = "Succeeded"
            self.store.put(resource)
        if synchronous:
            status = 200 if previous is not None else kind.create_status
            return Reply(status, kind.render(resource, self.ctx))
        operation = self._start_operation(ref, kind, "PUT", api_version, resource.body.get("location", "global"))
        complete = self._completion(resource, operation)
        if fault is not None and fault.kind == "lro_failed":
            timer = threading.Timer(self.ctx.settings.settle_s, complete, args=("Failed", default_lro_error(fault)))
            timer.daemon = True
            timer.start()
        else:
            kind.provision(resource, previous, complete, self.ctx, fault)
        if kind.put_style == "location":
            operation.final_body = lambda: self._render_if_present(resource.key)
            return Reply(202, None, self._lro_headers(operation, "operationresults"))
        return Reply(
            200 if previous is not None else 201,
            kind.render(resource, self.ctx),
            self._lro_headers(operation, "operations"),
        )

    def _render_if_present(self, key: str) -> dict[str, Any] | None:
        resource = self.store.get(key)
        if resource is None:
            return None
        kind = kind_of(resource.type)
        assert kind is not None
        return kind.render(resource, self.ctx)

    def get(self, ref: ResourceRef, kind: ResourceKind) -> Reply:
        if kind.type == "Microsoft.Authorization/roleDefinitions":
            if ref.name.lower() not in BUILT_IN_ROLES:
                raise ArmError(
                    404, "RoleDefinitionDoesNotExist", f"The role definition '{ref.name}' could not be found."
                )
            return Reply(200, role_definition(ref.subscription, ref.name))
        return Reply(200, kind.render(self._require(ref, kind), self.ctx))

    def head(self, ref: ResourceRef, kind: ResourceKind) -> Reply:
        return Reply(204 if self.store.get(ref.key) is not None else 404)

    def patch(
        self, ref: ResourceRef, kind: ResourceKind, body: Any, api_version: str, fault: FaultRule | None = None
    ) -> Reply:
        if not isinstance(body, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            )
        current = self._require(ref, kind)
        base = copy.deepcopy(current.body)
        for key in ("id", "name", "type"):
            base.pop(key, None)
        merged = kind.merge_patch(base, body)
        for read_only in ("provisioningState", "instanceView"):
            merged.get("properties", {}).pop(read_only, None)
        kind.validate(ref, merged, self.ctx)
        with self.store.locked():
            resource = kind.materialize(ref, merged, current, self.ctx)
            if kind.patch_style == "sync":
                resource.properties["provisioningState"] = current.provisioning_state or "Succeeded"
            self.store.put(resource)
        if kind.patch_style == "sync":
            return Reply(200, kind.render(resource, self.ctx))
        operation = self._start_operation(ref, kind, "PATCH", api_version, resource.body.get("location", "global"))
        operation.final_body = lambda: self._render_if_present(resource.key)
        kind.provision(resource, current, self._completion(resource, operation), self.ctx, fault)
        return Reply(202, None, self._lro_headers(operation, "operationresults"))

    def delete(self, ref: ResourceRef, kind: ResourceKind, api_version: str, fault: FaultRule | None) -> Reply:
        resource = self.store.get(ref.key)
        if resource is None:
            if ref.is_resource_group:
                raise resource_group_not_found(ref.name)
            return Reply(204)
        if kind.delete_style == "sync":
            body = kind.render(resource, self.ctx)
            self._delete_now(resource)
            return Reply(200, body)
        with self.store.locked():
            in_flight = resource.private.get("deleting")
            if in_flight is not None and not in_flight.done:
                return Reply(202, None, self._lro_headers(in_flight, "operationresults"))
            location = resource.body.get("location", "global")
            operation = self._start_operation(ref, kind, "DELETE", api_version, location)
            resource.private["deleting"] = operation
            state_before = resource.provisioning_state
            resource.properties["provisioningState"] = "Deleting"
        if fault is not None and fault.kind == "lro_failed":

            def fail() -> None:
                resource.properties["provisioningState"] = state_before
                operation.finish("Failed", default_lro_error(fault), int(fault.params.get("status", 400)))

            timer = threading.Timer(self.ctx.settings.settle_s, fail)
        else:
            timer = threading.Timer(self.ctx.settings.settle_s, self._delete_in_background, args=(resource, operation))
        timer.daemon = True
        timer.start()
        return Reply(202, None, self._lro_headers(operation, "operationresults"))

    def _delete_now(self, resource: StoredResource) -> None:
        """Delete a resource and everything beneath it (a group's resources, extension resources on it)."""
        for _ in range(3):  # a PUT racing the deletion may add one more resource beneath
            beneath = self.store.beneath(resource.id)
            if not beneath:
                break
            for child in beneath:
                child_kind = kind_of(child.type)
                if child_kind is not None:
                    child_kind.on_delete(child, self.ctx)
                self.store.remove(child.id)
        own_kind = kind_of(resource.type)
        if own_kind is not None:
            own_kind.on_delete(resource, self.ctx)
        self.store.remove(resource.id)

    def _delete_in_background(self, resource: StoredResource, operation: Operation) -> None:
        try:
            self._delete_now(resource)
        except Exception as error:  # report it through the operation, as ARM would
            operation.finish(
                "Failed", {"code": "InternalServerError", "message": f"{type(error).__name__}: {error}"}, 500
            )
            return
        operation.finish("Succeeded")

    def action(
        self,
        route: ResourceRoute,
        kind: ResourceKind,
        method: str,
        body: Any,
        query: Mapping[str, str],
        api_version: str,
        fault: FaultRule | None,
    ) -> Reply:
        resource = self._require(route.ref, kind)
        reply = kind.action(resource, ActionRequest(method, route.sub_path, body, query), self.ctx)
        if reply.long_running is None:
            return reply
        operation = self._start_operation(route.ref, kind, method, api_version, resource.body.get("location", "global"))
        if fault is not None and fault.kind == "lro_failed":
            operation.finish("Failed", default_lro_error(fault))
        else:
            reply.long_running(lambda status, error: operation.finish(status, error))
        return Reply(202, None, self._lro_headers(operation, "operations"))

    # -- operations, providers, subscription ------------------------------------------------------------------------
    def poll(self, route: OperationRoute, api_version: str | None) -> Reply:
        operation = self.operations.get(route.operation_id)
        if api_version != operation.api_version:
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{api_version}' is invalid for this operation. The supported versions are "
                f"'{operation.api_version}'.",
            )
        status = self.operations.observe(operation)
        if route.style == "operations":
            return Reply(
                200,
                operation.status_body(status),
                {"Retry-After": str(self.ctx.settings.retry_after_s)} if status == "InProgress" else {},
            )
        if status == "InProgress":
            return Reply(202, None, self._lro_headers(operation, "operationresults"))
        if status == "Failed":
            return Reply(
                operation.error_status,
                {"error": operation.error or {"code": "Failed", "message": "The operation failed."}},
            )
        if operation.method in ("PUT", "PATCH") and operation.final_body is not None:
            return Reply(200, operation.final_body())
        return Reply(200)

    def provider(self, route: ProviderRoute) -> Reply:
        namespace = route.namespace.lower()
        types = [kind for kind in KINDS if kind.lower().startswith(namespace + "/")]
        if not types:
            raise ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{route.namespace}' is invalid.")
        canonical_namespace = types[0].split("/", 1)[0]
        return Reply(
            200,
            {
                "id": f"/subscriptions/{route.subscription}/providers/{canonical_namespace}",
                "namespace": canonical_namespace,
                "registrationState": "Registered",
                "registrationPolicy": "RegistrationRequired",
                "resourceTypes": [
                    {"resourceType": kind.split("/", 1)[1], "locations": [], "apiVersions": [supported_version(kind)]}
                    for kind in types
                ],
            },
        )

    def subscription(self, route: SubscriptionRoute) -> Reply:
        return Reply(
            200,
            {
                "id": f"/subscriptions/{route.subscription}",
                "subscriptionId": route.subscription,
                "tenantId": self.ctx.settings.tenant_id,
                "displayName": "ARM emulator subscription",
                "state": "Enabled",
            },
        )

    # -- control --------------------------------------------------------------------------------------------------
    def remove_everything(self) -> int:
        """Delete every resource (and its containers); returns how many there were."""
        groups = [resource for resource in self.store.all() if resource.type == RESOURCE_GROUPS_TYPE]
        count = len(self.store.all())
        for group in groups:
            self._delete_now(group)
        for resource in self.store.all():
            self._delete_now(resource)
        return count
