"""The service image, built from the project's Dockerfile where no image registry may be reachable."""

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from provisioning.errors import DeploymentError, EnvironmentUnavailable

if TYPE_CHECKING:
    from docker import DockerClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREPARE_TIMEOUT_S = 900


def docker_client() -> "DockerClient":
    """A docker-py client that answers, or EnvironmentUnavailable in one line."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as error:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise EnvironmentUnavailable(
            f"no Docker engine answers at {where}; start one (scripts/ensure_docker_engine.sh) or use --env process"
        ) from error
    return client


def _run_script(name: str, root: Path, env: dict[str, str] | None = None) -> str:
    """Run scripts/NAME; its stdout, or a DeploymentError with the last line it printed on stderr."""
    result = subprocess.run(
        ["bash", str(root / "scripts" / name)],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=PREPARE_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeploymentError(f"scripts/{name} failed (exit {result.returncode}): {last}")
    return result.stdout


def build_service_image(root: Path = PROJECT_ROOT) -> str:
    """Build the image with scripts/build_image.sh (one build path, one layer cache for people, CI and tests).

    The script chooses the base (python:3.11-slim if present, else a Debian-built equivalent) and fills the
    wheelhouse first; it prints the image reference last on stdout.
    """
    docker_client()
    return _run_script("build_image.sh", root).strip().splitlines()[-1]
