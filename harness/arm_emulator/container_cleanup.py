"""Removing the containers an emulator left behind, when that emulator is no longer there to do it."""

import contextlib
import os

import docker
import docker.errors

from harness.arm_emulator.container_runtime import LABEL, PID_LABEL


def remove_instance_containers(instance: str) -> int:
    """Remove every container an emulator instance left (used by the fixture after the emulator is gone)."""
    client = docker.from_env()
    try:
        found = client.containers.list(all=True, ignore_removed=True, filters={"label": f"{LABEL}={instance}"})
        for container in found:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        return len(found)
    finally:
        client.close()


def remove_orphans() -> list[str]:
    """Remove containers whose emulator process no longer exists (a previous run killed with SIGKILL)."""
    client = docker.from_env()
    removed = []
    try:
        for container in client.containers.list(all=True, ignore_removed=True, filters={"label": LABEL}):
            pid = container.labels.get(PID_LABEL, "")
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                try:
                    container.remove(force=True)
                    removed.append(container.name)
                except docker.errors.NotFound:
                    pass
        return removed
    finally:
        client.close()
