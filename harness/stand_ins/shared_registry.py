"""`python -m harness.stand_ins.shared_registry -- COMMAND ...`: one local registry for every session COMMAND runs.

Each prod rehearsal session (Container Instances, Container Apps, each worker of the emulator's suite) otherwise
starts a registry of its own and pushes the 645 MB image into it: Docker compresses every layer again for each
registry, about 30 s a push here. Sharing one, the first push uploads the layers and every later one finds them
there (0.1 s). COMMAND gets the registry's address in GARCH_MLOPS_REGISTRY (the `local_registry` fixture attaches
to it); the registry, its data and the image tags that point into it are removed when COMMAND ends, however it ends:
a SIGTERM to this process reaches COMMAND first, and the registry dies with this process even after a SIGKILL.
"""

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.stand_ins.registry import LocalRegistry, RegistryUnavailable

REGISTRY_VARIABLE = "GARCH_MLOPS_REGISTRY"
USAGE = "usage: python -m harness.stand_ins.shared_registry -- COMMAND [ARG ...]"


def session_registry(directory: Path, environ: Mapping[str, str] = os.environ) -> LocalRegistry:
    """The registry a session pushes to: the shared one where GARCH_MLOPS_REGISTRY names it, else its own."""
    address = environ.get(REGISTRY_VARIABLE)
    return LocalRegistry.attached(address) if address else LocalRegistry(directory)


def run_with_registry(command: Sequence[str]) -> int:
    """Serve a registry while `command` runs; its exit status."""
    with (
        tempfile.TemporaryDirectory(prefix="garch-mlops-registry-") as directory,
        LocalRegistry(Path(directory)) as registry,
    ):
        child = subprocess.Popen(command, env={**os.environ, REGISTRY_VARIABLE: registry.address})
        # Ctrl-C reaches the whole foreground group, the child included: wait for its teardown. A SIGTERM sent to
        # this process alone is passed on, so the child tears down before the registry goes.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))
        return child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    command = command[1:] if command[:1] == ["--"] else command
    if not command:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return run_with_registry(command)
    except RegistryUnavailable as error:
        print(f"shared_registry: no registry to share: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
