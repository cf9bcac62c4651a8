"""The credential every management client uses: a static token, a service principal, or Azure's default chain."""

import time
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential

from provisioning.environments.azure.settings import PUBLIC_CLOUD_ARM, AzureEnvironment
from provisioning.errors import EnvironmentUnavailable

STATIC_TOKEN_LIFETIME_S = 3600


class StaticTokenCredential:
    """One bearer token as a TokenCredential: AZURE_ARM_TOKEN (only together with a non-public AZURE_ARM_ENDPOINT),
    or the token of the local ARM emulator."""

    def __init__(self, token: str, lifetime_s: int = STATIC_TOKEN_LIFETIME_S) -> None:
        self._token = token
        self._lifetime_s = lifetime_s

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + self._lifetime_s)

    def close(self) -> None:
        pass

    def __enter__(self) -> "StaticTokenCredential":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def make_credential(azure: AzureEnvironment) -> TokenCredential:
    if not azure.subscription_id:
        raise EnvironmentUnavailable("AZURE_SUBSCRIPTION_ID is not set; --env prod needs an Azure subscription")
    if azure.arm_token is not None:
        if azure.arm_endpoint.rstrip("/") == PUBLIC_CLOUD_ARM:
            raise EnvironmentUnavailable("AZURE_ARM_TOKEN is only accepted with AZURE_ARM_ENDPOINT set elsewhere")
        return StaticTokenCredential(azure.arm_token.get_secret_value())
    if azure.tenant_id and azure.client_id and azure.client_secret:
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(azure.tenant_id, azure.client_id, azure.client_secret.get_secret_value())
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()
