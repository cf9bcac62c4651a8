"""The image's SBOM is CycloneDX of the service lock, made again only when the lock changed: a session builds the
image many times, and each SBOM cost seconds of CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "service_sbom.sh"


def make_sbom(lock: Path, sbom: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCK": str(lock), "SBOM": str(sbom), "SBOM_PYTHON": sys.executable}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False)


def components(sbom: Path) -> set[str]:
    return {f"{c['name']}=={c['version']}" for c in json.loads(sbom.read_text())["components"]}


def test_the_sbom_is_made_once_per_lock_and_again_when_it_changes(tmp_path: Path) -> None:
    lock, sbom = tmp_path / "service.lock", tmp_path / "sbom" / "service.cdx.json"
    lock.write_text("numpy==2.1.3\nhttpx==0.28.1\n")
    first = make_sbom(lock, sbom)
    assert first.returncode == 0, first.stderr
    assert components(sbom) == {"numpy==2.1.3", "httpx==0.28.1"}
    made = sbom.stat().st_mtime_ns

    again = make_sbom(lock, sbom)
    assert again.returncode == 0 and "up to date" in again.stderr, again.stderr
    assert sbom.stat().st_mtime_ns == made

    lock.write_text("numpy==2.1.3\nhttpx==0.28.1\nidna==3.10\n")
    changed = make_sbom(lock, sbom)
    assert changed.returncode == 0 and "wrote" in changed.stderr, changed.stderr
    assert components(sbom) == {"numpy==2.1.3", "httpx==0.28.1", "idna==3.10"}


def test_a_missing_lock_is_one_line(tmp_path: Path) -> None:
    result = make_sbom(tmp_path / "absent.lock", tmp_path / "service.cdx.json")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"service_sbom: {tmp_path / 'absent.lock'} not found (run scripts/lock_service_deps.sh)"
    ]
