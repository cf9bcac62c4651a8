"""AcrPull on the run's registry for the app's system-assigned identity: the app pulls without a password."""

from provisioning.environments.azure.arm_errors import arm_operation
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.container_apps.app_spec import ACR_PULL
from provisioning.environments.azure.model_storage import role_assignment_name, role_definition_id


def grant_acr_pull(clients: AzureClients, registry_id: str, principal_id: str) -> str:
    """Assign AcrPull on `registry_id` to `principal_id` (a GUID derived from both: granting again is the same
    PUT); returns the assignment's id. ServicePrincipal: ARM accepts an identity created seconds ago."""
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    body = RoleAssignmentCreateParameters(
        role_definition_id=role_definition_id(clients.azure.subscription_id, ACR_PULL),
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        description="garch-mlops: the API container app pulls its image",
    )
    name = role_assignment_name(registry_id, principal_id, ACR_PULL)
    with arm_operation("granting AcrPull on the run's registry"):
        assignment = clients.authorization.role_assignments.create(registry_id, name, body)
    return str(assignment.id)
