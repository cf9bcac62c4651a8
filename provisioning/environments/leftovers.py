"""Remove what a dead owner left: its sessions' processes and containers (see ownership.py for the marks).

Nothing can run in a process after SIGKILL, so its session's reaper (reaper.py) cleans up at once, and the next
harness session or `mlops-deploy` command sweeps whatever is left should the reaper have been killed as well.
"""

import contextlib
from dataclasses import dataclass
from pathlib import Path

from provisioning.environments.ownership import OWNER_LABEL, OWNER_VARIABLE, SESSION_LABEL, SESSION_VARIABLE, Owner
from provisioning.processes import group_members, stop_process_group


@dataclass(frozen=True)
class Leftover:
    kind: str
    ident: str
    session: str
    owner: Owner

    def __str__(self) -> str:
        return f"{self.kind} {self.ident} (session {self.session}, owner pid {self.owner.pid} is gone)"


def _environment(pid: int, proc: Path) -> dict[str, str]:
    try:
        raw = (proc / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return {}
    pairs = (entry.partition(b"=") for entry in raw.split(b"\0") if entry)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, _, value in pairs}


def _process_group(pid: int, proc: Path) -> int | None:
    try:
        return int((proc / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def orphaned_process_groups(session: str | None = None, proc: Path = Path("/proc")) -> list[Leftover]:
    """Process groups started for a session whose owner has exited (optionally: of one session only)."""
    found: dict[int, Leftover] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        env = _environment(int(entry.name), proc)
        owner = Owner.parse(env.get(OWNER_VARIABLE, ""))
        if owner is None or (session is not None and env.get(SESSION_VARIABLE) != session) or owner.alive():
            continue
        group = _process_group(int(entry.name), proc)
        if group is not None and group not in found:
            found[group] = Leftover("process group", str(group), env.get(SESSION_VARIABLE, "?"), owner)
    return list(found.values())


def orphaned_containers(session: str | None = None) -> list[tuple[Leftover, object]]:
    """Containers (running or not) labelled for a session whose owner has exited; none without a Docker engine."""
    try:
        import docker
        import docker.errors
    except ImportError:  # installed without the container extras: there can be no containers of ours
        return []

    label = f"{SESSION_LABEL}={session}" if session else OWNER_LABEL
    try:
        client = docker.from_env(timeout=10)
        containers = client.containers.list(all=True, ignore_removed=True, filters={"label": label})
    except docker.errors.DockerException:
        return []
    found = []
    for container in containers:
        owner = Owner.parse(container.labels.get(OWNER_LABEL, ""))
        if owner is not None and not owner.alive():
            session_of = container.labels.get(SESSION_LABEL, "?")
            found.append((Leftover("container", container.short_id, session_of, owner), container))
    return found


def remove_leftovers(session: str | None = None) -> list[Leftover]:
    """Stop every orphaned process group and remove every orphaned container; returns what was removed."""
    removed = []
    for leftover in orphaned_process_groups(session):
        if group_members(int(leftover.ident)):
            stop_process_group(int(leftover.ident))
            removed.append(leftover)
    containers = orphaned_containers(session)
    if containers:
        import docker.errors

        for leftover, container in containers:
            with contextlib.suppress(docker.errors.NotFound):  # removed by someone else meanwhile: fine
                container.remove(force=True, v=True)  # type: ignore[attr-defined]
                removed.append(leftover)
    return removed
