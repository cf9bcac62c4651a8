"""Roles for the app's system-assigned identity: AcrPull on the run's registry (it pulls without a password) and
Key Vault Secrets User on the run's vault (it reads its secrets without holding them)."""

from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_apps.app_spec import ACR_PULL
from provisioning.environments.azure.model_storage import role_assignment_name, role_definition_id

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def grant_role(clients: AzureClients, scope_id: str, principal_id: str, role: str, why: str) -> str:
    """Assign `role` on `scope_id` to `principal_id` (a GUID derived from the three: granting again is the same
    PUT); returns the assignment's id. ServicePrincipal: ARM accepts an identity created seconds ago."""
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    body = RoleAssignmentCreateParameters(
        role_definition_id=role_definition_id(clients.azure.subscription_id, role),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        description=f"garch-mlops: {why}",
    )
    name = role_assignment_name(scope_id, principal_id, role)
    with arm_operation(f"granting a role on {scope_id.rsplit('/', 1)[-1]} ({why})"):
        assignment = clients.authorization.role_assignments.create(scope_id, name, body)
    return str(assignment.id)


def grant_acr_pull(clients: AzureClients, registry_id: str, principal_id: str) -> str:
    return grant_role(clients, registry_id, principal_id, ACR_PULL, "the API container app pulls its image")


def grant_secrets_user(clients: AzureClients, vault_id: str, principal_id: str) -> str:
    return grant_role(
        clients, vault_id, principal_id, KEY_VAULT_SECRETS_USER, "the API container app reads its secrets"
    )
