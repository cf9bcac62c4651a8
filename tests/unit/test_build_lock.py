"""Builds of one image name on one machine take turns: BuildKit exporting the same tag from two builds at once fails
one of them. A build kept waiting past its bound stops with one line naming the lock, before it touches anything."""

import fcntl
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_image.sh"


def test_a_build_waits_for_another_build_of_the_same_image_and_gives_up_in_one_line(tmp_path: Path) -> None:
    image = f"lock-test-{uuid.uuid4().hex[:8]}"
    lock = tmp_path / f"garch-mlops-build-{image}.lock"
    env = os.environ | {"IMAGE": image, "TMPDIR": str(tmp_path), "BUILD_LOCK_WAIT_S": "1"}
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another build of this image, in the middle of it
        started = time.monotonic()
        result = subprocess.run(["bash", str(BUILD_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
        waited = time.monotonic() - started

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [f"build_image: another build of {image} held {lock} for 1s"]
    assert waited >= 1.0
