"""Microsoft.KeyVault/vaults with their secrets, soft delete and purge, and how a container app reads a secret.

- A vault is `https://<name>.vault.azure.net/`; in RBAC mode (`enableRbacAuthorization`) readers need a role.
- Secrets are written through ARM (`PUT vaults/{vault}/secrets/{name}`, the management plane's secret create), and
  ARM never returns a value.
- Deleting a vault (or its group) soft-deletes it, as Azure always does: it becomes
  `/subscriptions/{s}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}`, listed in the
  emulator's inventory, keeping its name taken (a new vault of that name is a 409) until it is purged
  (`POST …/purge`). A vault with purge protection could not be purged: `enablePurgeProtection` is refused here.
- A container app secret with `keyVaultUrl` resolves when the vault and secret exist and the identity it names holds
  Key Vault Secrets User (or Officer, Administrator, Owner) on the vault, its group or the subscription.
"""

import re
from typing import Any, ClassVar
from urllib.parse import urlparse

from harness.arm_emulator.errors import ArmError
from harness.arm_emulator.lro import utc_now
from harness.arm_emulator.providers.authorization import holds_role
from harness.arm_emulator.providers.base import ActionRequest, Context, Reply, ResourceKind
from harness.arm_emulator.schema import Bool, Int, Obj, Str, required
from harness.arm_emulator.store import ResourceStore, StoredResource

VAULTS, DELETED_VAULTS = "Microsoft.KeyVault/vaults", "Microsoft.KeyVault/deletedVaults"
NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VAULT_HOST = re.compile(r"^(?P<vault>[a-z0-9-]+)\.vault\.azure\.net$")
SECRET_READER_ROLES = frozenset(
    {
        "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
        "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",  # Key Vault Secrets Officer
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",  # Key Vault Administrator
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    }
)


def deleted_vault_id(subscription: str, location: str, name: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}"


class Vaults(ResourceKind):
    type = VAULTS
    sub_path_methods = ("GET", "PUT")
    properties_schema: ClassVar[Obj] = Obj(
        {
            "tenantId": required(Str(format="guid")),
            "sku": required(
                Obj({"family": required(Str(enum=("A",))), "name": required(Str(enum=("standard", "premium")))})
            ),
            "enableRbacAuthorization": Bool(),
            "enableSoftDelete": Bool(),
            "softDeleteRetentionInDays": Int(minimum=7, maximum=90),
            "enablePurgeProtection": Bool(),
            "publicNetworkAccess": Str(enum=("Enabled", "Disabled")),
        }
    )  # fmt: skip

    def check_name(self, name: str) -> None:
        if not NAME.match(name):
            raise ArmError(
                400, "VaultNameNotValid",
                f"The vault name '{name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. "
                "The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.",
            )  # fmt: skip

    def check_semantics(self, ref: Any, body: dict[str, Any], ctx: Context) -> None:
        properties = body.get("properties") or {}
        if properties.get("enablePurgeProtection") is False:
            raise ArmError(400, "BadRequest", 'The property "enablePurgeProtection" cannot be set to false.')
        if properties.get("enableSoftDelete") is False:
            raise ArmError(400, "BadRequest", 'The property "enableSoftDelete" cannot be set to false.')
        location = str(body["location"]).replace(" ", "").lower()
        if ctx.store.get(deleted_vault_id(ref.subscription, location, ref.name)) is not None:
            raise ArmError(
                409, "ConflictError",
                f"A vault with the same name already exists in deleted state. You need to either recover or purge "
                f"existing key vault. Vault name: '{ref.name}'.",
            )  # fmt: skip

    def fill_read_only(self, resource: StoredResource, previous: StoredResource | None, ctx: Context) -> None:
        properties = resource.properties
        properties["vaultUri"] = f"https://{resource.name.lower()}.vault.azure.net/"
        properties.setdefault("enableSoftDelete", True)
        properties.setdefault("softDeleteRetentionInDays", 90)
        properties.setdefault("enableRbacAuthorization", False)
        properties["provisioningState"] = "Succeeded"
        resource.private.setdefault("secrets", {})

    def action(self, resource: StoredResource, request: ActionRequest, ctx: Context) -> Reply:
        if len(request.path) == 2 and request.path[0].lower() == "secrets":
            name = request.path[1]
            if request.method == "PUT":
                value = (
                    ((request.body or {}).get("properties") or {}).get("value")
                    if isinstance(request.body, dict)
                    else None
                )
                if not SECRET_NAME.match(name) or not isinstance(value, str):
                    raise ArmError(
                        400,
                        "BadRequest",
                        "A secret needs a name of letters, digits and '-' and a string properties.value.",
                    )
                resource.private["secrets"][name.lower()] = value
                return Reply(200, _secret_body(resource, name))
            if name.lower() not in resource.private.get("secrets", {}):
                raise ArmError(404, "SecretNotFound", f"Secret '{name}' not found in vault '{resource.name}'.")
            return Reply(200, _secret_body(resource, name))
        return super().action(resource, request, ctx)

    def on_delete(self, resource: StoredResource, ctx: Context) -> None:
        """Soft delete: the vault is kept, with its secrets, as a deleted vault until it is purged."""
        subscription = resource.id.split("/")[2]
        location = str(resource.body.get("location", "")).lower()
        deleted_id = deleted_vault_id(subscription, location, resource.name)
        body = {
            "id": deleted_id,
            "name": resource.name,
            "type": DELETED_VAULTS,
            "properties": {
                "vaultId": resource.id,
                "location": location,
                "deletionDate": utc_now(),
                "scheduledPurgeDate": utc_now(),
                "tags": dict(resource.body.get("tags") or {}),
                "purgeProtectionEnabled": False,
            },
        }
        ctx.store.put(StoredResource(deleted_id, DELETED_VAULTS, resource.name, "", body, dict(resource.private)))


def _secret_body(resource: StoredResource, name: str) -> dict[str, Any]:
    return {
        "id": f"{resource.id}/secrets/{name}",
        "name": name,
        "type": f"{VAULTS}/secrets",
        "properties": {
            "secretUri": f"{resource.properties['vaultUri']}secrets/{name}",
            "attributes": {"enabled": True},
        },
    }


def deleted_vault(store: ResourceStore, subscription: str, location: str, name: str, *, purge: bool) -> Reply:
    """GET a deleted vault, or purge it (which frees its name)."""
    key = deleted_vault_id(subscription, location.replace(" ", "").lower(), name)
    found = store.get(key)
    if found is None:
        raise ArmError(
            404, "DeletedVaultNotFound", f"The deleted vault '{name}' in location '{location}' was not found."
        )
    if purge:
        store.remove(key)
        return Reply(200, None)
    return Reply(200, found.body)


def key_vault_secret(ctx: Context, app: StoredResource, secret: dict[str, Any]) -> tuple[str | None, str | None]:
    """(value, None) for a `keyVaultUrl` secret the app may read, else (None, Azure's provisioning error)."""
    url = str(secret.get("keyVaultUrl"))
    unable = (
        f"Field 'configuration.secrets' is invalid with details: 'Invalid value: \"{secret['name']}\": Unable to get "
        f"value using Managed identity {secret.get('identity') or 'none'} for secret {secret['name']}"
    )
    parsed = urlparse(url)
    host, parts = VAULT_HOST.match(parsed.hostname or ""), [p for p in parsed.path.split("/") if p]
    if host is None or len(parts) < 2 or parts[0] != "secrets":
        return None, f"{unable}'; '{url}' is not a Key Vault secret URL."
    vault = next((r for r in ctx.store.all() if r.type == VAULTS and r.name.lower() == host["vault"]), None)
    if vault is None:
        return None, f"{unable}'; no key vault named '{host['vault']}' exists."
    value = vault.private.get("secrets", {}).get(parts[1].lower())
    if value is None:
        return None, f"{unable}'; vault '{vault.name}' has no secret '{parts[1]}'."
    if (secret.get("identity") or "").lower() != "system":
        return None, f"{unable}'; only the system-assigned identity is emulated."
    principal = str((app.body.get("identity") or {}).get("principalId") or "")
    if not holds_role(ctx, principal, vault.id, SECRET_READER_ROLES):
        return None, (
            f"{unable}'; the app's system-assigned identity ({principal}) has no Key Vault Secrets User role "
            f"assignment on vault '{vault.id}'."
        )
    return str(value), None
