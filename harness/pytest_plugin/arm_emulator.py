"""The ARM emulator and its image registry as session fixtures (a pytest plugin: add it to `pytest_plugins`).

- `local_registry`: Debian's docker-registry on a free 127.0.0.1 port, data in the session's temp dir; needs the
  `docker-registry` binary, not a Docker engine. Where GARCH_MLOPS_REGISTRY names a registry another process
  serves for several sessions (harness/stand_ins/shared_registry.py), the session pushes there instead.
- `arm_emulator`: the emulator in a subprocess, its login server being `local_registry`; container groups need a
  Docker engine. Yields an `ArmEmulator` (endpoint, ca_bundle, token, subscription_id, client(), inject(),
  resources(), containers(), requests(), reset(), assert_holds_nothing()).
- `bare_arm_emulator`: an emulator with no registry, for tests that need neither Docker nor docker-registry.
- `arm_credential`: a TokenCredential for `arm_emulator`.

Each fixture undoes what it did after its `yield`, on failure and on Ctrl-C (pytest tears session fixtures down
then); the emulator also stops and removes its containers when the pytest process dies without a teardown.
"""

import contextlib
from collections.abc import Iterator

import pytest

from harness.arm_emulator.client import ArmEmulator, EmulatorProcess
from harness.stand_ins.registry import LocalRegistry
from harness.stand_ins.shared_registry import session_registry
from provisioning.environments.azure.credentials import StaticTokenCredential


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator: tests of the ARM emulator itself (tests/arm_emulator; Docker and docker-registry)"
    )


def _remove_orphaned_containers() -> None:
    """Containers of emulators that died with SIGKILL in an earlier run (no engine: there are none)."""
    import docker.errors

    from harness.arm_emulator.container_cleanup import remove_orphans

    with contextlib.suppress(docker.errors.DockerException):
        remove_orphans()


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    with session_registry(tmp_path_factory.mktemp("local-registry")) as registry:
        yield registry


@pytest.fixture(scope="session")
def arm_emulator(local_registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEmulator]:
    _remove_orphaned_containers()
    with EmulatorProcess(tmp_path_factory.mktemp("arm-emulator"), registry=local_registry.address) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def bare_arm_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEmulator]:
    with EmulatorProcess(tmp_path_factory.mktemp("bare-arm-emulator")) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def arm_credential(arm_emulator: ArmEmulator) -> StaticTokenCredential:
    return arm_emulator.credential()
