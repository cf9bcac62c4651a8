"""Run by tests/deploy/test_no_leftovers.py in a pytest of its own (the outer run never collects this file).

It records the deployment's state where the outer test can read it and, when asked, blocks until it is interrupted.
Under xdist every worker records what it was handed (and, for a container, every container its session labelled),
so the outer test can prove the workers shared one deployment.
"""

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from provisioning.environments.base import Deployment
from provisioning.environments.ownership import SESSION_LABEL
from provisioning.state_file import StateFile

BLOCK_DEADLINE_S = 300
WORKER_PROBES = 4


def session_containers(state: dict[str, Any]) -> list[str]:
    """Ids of every container, running or not, that carries this deployment's session label."""
    import docker

    client = docker.from_env()
    try:
        labelled = client.containers.list(
            all=True, ignore_removed=True, filters={"label": f"{SESSION_LABEL}={state['session']}"}
        )
        return sorted(container.id for container in labelled)
    finally:
        client.close()


@pytest.mark.skipif(bool(os.environ.get("PROBE_RECORD_DIR")), reason="the xdist probe records per worker")
def test_probe(deployment: Deployment) -> None:
    StateFile(Path(os.environ["PROBE_STATE_FILE"])).write(deployment.state())  # atomic: read while it runs
    if os.environ.get("PROBE_BLOCK"):
        threading.Event().wait(BLOCK_DEADLINE_S)  # until the outer test's signal interrupts it


@pytest.mark.skipif(not os.environ.get("PROBE_RECORD_DIR"), reason="only in the xdist probe")
@pytest.mark.parametrize("probe", range(WORKER_PROBES))
def test_worker_probe(probe: int, deployment: Deployment, worker_id: str) -> None:
    state = deployment.state()
    record = {"worker": worker_id, "state": state}
    if state["environment"] == "local":
        record["session_containers"] = session_containers(state)
    Path(os.environ["PROBE_RECORD_DIR"], f"{worker_id}-{probe}.json").write_text(json.dumps(record))
