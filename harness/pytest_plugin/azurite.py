"""Azurite, Microsoft's Blob Storage emulator, on a free loopback port for the session (a pytest plugin).

Installed from the npm registry into build/node by scripts/install_azurite.sh (which `make install` and the tox
environments run); its blob service keeps everything in memory, so nothing outlives the session. Each xdist worker
runs its own (about 1 s). A session whose selected tests need it and cannot find it stops before the first test.
"""

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.pytest_plugin.required_tools import RequiredTool, requests_fixture, require
from provisioning.processes import ProcessGroup, free_loopback_port

pytest_plugins = ["harness.pytest_plugin.required_tools"]

ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = ROOT / "build" / "node" / "node_modules" / ".bin" / "azurite-blob"
INSTALL_HINT = "bash scripts/install_azurite.sh"
READY_TIMEOUT_S = 30.0
ACCOUNT = "devstoreaccount1"
# The documented, public key of Azurite's development account: not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Azurite:
    port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def container_url(self, name: str) -> str:
        return f"{self.blob_endpoint}/{name}"

    def new_container_url(self, prefix: str = "models") -> str:
        """A container URL no other test uses (the container itself is created by whoever publishes first)."""
        return self.container_url(f"{prefix}-{uuid.uuid4().hex[:12]}")


def pytest_configure(config: pytest.Config) -> None:
    require(
        config,
        RequiredTool(
            name=f"Azurite ({AZURITE_BLOB.relative_to(ROOT)})",
            is_installed=AZURITE_BLOB.exists,
            install=INSTALL_HINT,
            needed_by=lambda item: requests_fixture(item, "azurite"),
        ),
    )


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A running Azurite blob service; stopped (its process group) after the session."""
    if not AZURITE_BLOB.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE_BLOB}: run `{INSTALL_HINT}`", pytrace=False)
    workspace = tmp_path_factory.mktemp("azurite")
    port = free_loopback_port()
    command = [
        str(AZURITE_BLOB),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--silent",
    ]
    with ProcessGroup(command, name="Azurite", log_path=workspace / "azurite.log", cwd=workspace) as process:
        process.wait_until(
            lambda: _listening(port), what=f"Azurite listening on 127.0.0.1:{port}", timeout_s=READY_TIMEOUT_S
        )
        yield Azurite(port)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
