"""Everything the emulator process is configured with, validated once, passed to constructors."""

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REGISTRY_ADDRESS = re.compile(r"^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$")


@dataclass(frozen=True)
class EmulatorSettings:
    """The emulator's configuration (the CLI in `__main__` builds it; tests build it through the fixtures)."""

    host: str
    port: int
    token: str
    subscription_id: str
    cert_file: Path
    key_file: Path
    state_dir: Path
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # host:port of the docker-registry standing in for ACR; None = registries exist only on paper.
    registry: str | None = None
    # Seconds in Retry-After on long-running-operation answers; 0 lets the client's polling_interval decide.
    retry_after_s: int = 0
    # How long a status poll may wait server-side for an operation in progress to finish (limits hot polling).
    poll_hold_s: float = 0.25
    # How long a simple (non-container) long-running operation takes before it is done.
    settle_s: float = 0.05
    # Label value on every docker container this emulator starts (`io.garch-mlops.arm-emulator=<instance>`).
    instance: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # Blob endpoint template for storage accounts; {name} is replaced (e.g. an Azurite URL).
    blob_endpoint: str = "https://{name}.blob.core.windows.net/"
    # Container Apps' scaling timings (15 s concurrency window, pollingInterval, cooldownPeriod) times this factor.
    scale_clock: float = 1.0

    def __post_init__(self) -> None:
        if not self.host.startswith("127.") and self.host not in {"localhost", "::1"}:
            raise ValueError(f"the ARM emulator serves on loopback only, not on {self.host!r}")
        if not GUID.match(self.subscription_id):
            raise ValueError(f"subscription id {self.subscription_id!r} is not a GUID")
        if not self.token:
            raise ValueError("the bearer token must not be empty")
        if self.registry is not None and not REGISTRY_ADDRESS.match(self.registry):
            raise ValueError(f"registry {self.registry!r} is not a loopback host:port")
        if not 0 < self.scale_clock <= 1:
            raise ValueError(f"scale clock factor {self.scale_clock} is not in (0, 1]")
        if self.retry_after_s < 0 or self.poll_hold_s < 0 or self.settle_s < 0:
            raise ValueError("retry_after_s, poll_hold_s and settle_s must not be negative")
