"""Run by tests/deploy/test_no_leftovers.py in a pytest of its own (the outer run never collects this file).

It records the deployment's state where the outer test can read it and, when asked, blocks until it is interrupted.
"""

import json
import os
import time
from pathlib import Path

from provisioning.deployment import Deployment

BLOCK_DEADLINE_S = 300


def test_probe(deployment: Deployment) -> None:
    Path(os.environ["PROBE_STATE_FILE"]).write_text(json.dumps(deployment.state()))
    if os.environ.get("PROBE_BLOCK"):
        deadline = time.monotonic() + BLOCK_DEADLINE_S
        while time.monotonic() < deadline:  # waits for the outer test's SIGINT
            time.sleep(0.05)
