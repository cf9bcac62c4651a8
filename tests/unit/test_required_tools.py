"""A session whose selected tests need a missing external tool stops before its first test, with one line.

Each case runs pytest in a subprocess on a small project of its own that loads the real plugin
(harness/pytest_plugin/required_tools.py) and declares a tool that is never installed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFTEST = """
import pytest

from harness.pytest_plugin.required_tools import RequiredTool, require, requests_fixture

pytest_plugins = ["harness.pytest_plugin.required_tools"]


def pytest_configure(config):
    require(
        config,
        RequiredTool(
            name="Frobnicator",
            is_installed=lambda: False,
            install="bash scripts/install_frobnicator.sh",
            needed_by=lambda item: requests_fixture(item, "frobnicator"),
        ),
    )


@pytest.fixture
def frobnicator(tmp_path_factory):
    tmp_path_factory.mktemp("frobnicator-started")
    return "frob"


@pytest.fixture(params=["directory", "frob"])
def store(request):
    return request.getfixturevalue("frobnicator") if request.param == "frob" else "dir"
"""
TESTS = """
def test_needs_it(frobnicator, tmp_path_factory):
    tmp_path_factory.mktemp("ran-needs-it")


def test_plain(tmp_path_factory):
    tmp_path_factory.mktemp("ran-plain")


def test_param(store):
    assert store
"""
LINE = (
    "the selected tests need tools that are missing: Frobnicator is not installed "
    "(install it: bash scripts/install_frobnicator.sh)"
)


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_sample.py").write_text(TESTS)
    (project / "pytest.ini").write_text("[pytest]\n")
    # Only the plugins these cases use: autoloading every installed one (schemathesis, locust...) takes seconds.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    command = [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "no:cacheprovider", "-q", *args]
    command += ["--basetemp", str(project / "tmp")]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


def ran(project: Path) -> list[str]:
    return sorted(path.name for path in (project / "tmp").glob("*") if path.is_dir() and not path.is_symlink())


def test_a_selected_test_that_needs_a_missing_tool_stops_the_session_before_any_test(tmp_path: Path) -> None:
    result = run_pytest(tmp_path)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [f"ERROR: {LINE}"]
    assert ran(tmp_path) == [], "a test or the tool's fixture ran before the session stopped"


def test_tests_that_do_not_need_the_tool_run_without_it(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "-k", "plain")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert ran(tmp_path) == ["ran-plain0"]


def test_a_fixture_that_asks_for_the_tool_by_name_counts_as_needing_it(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "-k", "param")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert LINE in result.stderr
    assert ran(tmp_path) == []


def test_under_xdist_the_line_is_reported_once_and_nothing_runs(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "-n", "2")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    # One collection error, not one per worker (the summary line, full-width where CI is set, repeats it prefixed).
    assert [line for line in result.stdout.splitlines() if line.strip() == LINE] == [LINE], result.stdout
    assert "1 error" in result.stdout and "passed" not in result.stdout
    assert not any(name.startswith(("ran-", "frobnicator")) for name in ran(tmp_path)), ran(tmp_path)
