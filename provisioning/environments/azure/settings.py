"""Where Azure is and who we are there: read from the environment only (secrets never live in the YAML)."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PUBLIC_CLOUD_ARM = "https://management.azure.com"


class AzureEnvironment(BaseSettings):
    """AZURE_* variables. With AZURE_ARM_ENDPOINT every management client talks to that ARM instead
    (a sovereign cloud, or the local emulator), and AZURE_ARM_TOKEN may stand in for Azure AD."""

    model_config = SettingsConfigDict(env_prefix="AZURE_", env_file=".env", extra="ignore")

    subscription_id: str = Field(default="", description="The subscription everything is created in.")
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    arm_endpoint: str = PUBLIC_CLOUD_ARM
    arm_token: SecretStr | None = None
    polling_interval_s: float = Field(default=5.0, ge=0, description="Between polls of a long-running operation.")
    ingress_scheme: Literal["https", "http"] = Field(
        default="https",
        description="How a Container App's ingress FQDN is reached: https on Azure; http on the ARM emulator, whose "
        "ingress is a plain-HTTP 127.0.0.N:PORT (set AZURE_INGRESS_SCHEME=http with it, as --azure-emulator does).",
    )

    @property
    def arm_scope(self) -> str:
        return self.arm_endpoint.rstrip("/") + "/.default"
