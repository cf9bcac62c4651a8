"""A session under coverage does not measure its process deployment: blanking coverage's variables keeps a Python
process from starting coverage (the hook coverage installs reads them at start-up), and a session that is not
measured blanks nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.pytest_plugin.deployment import unmeasured_service

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def starts_coverage(env: dict[str, str]) -> bool:
    probe = "import sys; print('coverage' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "True"


def test_a_process_given_the_blanks_is_not_measured(tmp_path: Path) -> None:
    measured = {**os.environ, "COVERAGE_PROCESS_START": str(PYPROJECT), "COVERAGE_FILE": str(tmp_path / ".coverage")}
    assert starts_coverage(measured), "coverage's start-up hook is not installed: the blanks would prove nothing"
    assert not starts_coverage({**measured, **unmeasured_service(measured)})


def test_a_session_that_is_not_measured_blanks_nothing() -> None:
    assert unmeasured_service({"PATH": "/bin", "COVERAGE_PROCESS_START": ""}) == {}
