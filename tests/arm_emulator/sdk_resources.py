"""What the control-plane tests make through the real SDK clients, and what the emulator logged of it."""

from typing import Any

from harness.arm_emulator.client import ArmEmulator

from .conftest import LOCATION, ArmClients

BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


def calls(emulator: ArmEmulator, resource_type: str) -> list[tuple[str, str, int]]:
    """(method, kind, status) of the logged calls on one resource type."""
    return [
        (entry["method"], entry["kind"], entry["status"])
        for entry in emulator.requests()
        if entry["resource_type"] == resource_type
    ]


def role_definition_id(emulator: ArmEmulator, role: str) -> str:
    return f"/subscriptions/{emulator.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def make_registry(clients: ArmClients, group: str, name: str = "garchregistry", *, admin: bool = True) -> Any:
    body = {"location": LOCATION, "sku": {"name": "Basic"}, "properties": {"adminUserEnabled": admin}}
    return clients.registries.registries.begin_create(group, name, body).result()


def make_workspace(clients: ArmClients, group: str, name: str = "garch-logs") -> Any:
    body = {"location": LOCATION, "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30}}
    return clients.log_analytics.workspaces.begin_create_or_update(group, name, body).result()


def make_component(clients: ArmClients, group: str, workspace_id: str, name: str = "garch-insights") -> Any:
    body = {"location": LOCATION, "kind": "web", "application_type": "web", "workspace_resource_id": workspace_id}
    return clients.app_insights.components.create_or_update(group, name, body)
