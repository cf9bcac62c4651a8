"""The layout the README draws is the layout there is: three one-way layers, small modules, short functions.

`make lint` checks the layers with import-linter; here a scratch copy proves the contract fails on the import it
exists to forbid, so a contract that silently checks nothing cannot pass.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("service", "provisioning", "harness", "tests")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def python_files() -> list[Path]:
    return sorted(path for layer in LAYERS for path in (ROOT / layer).rglob("*.py"))


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in python_files()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}::{node.name}"] = length
    assert long == {}


@pytest.fixture(scope="module")
def scratch_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The layered packages and the contract, copied where a test may break them."""
    scratch = tmp_path_factory.mktemp("layers")
    for layer in LAYERS:
        shutil.copytree(ROOT / layer, scratch / layer, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", scratch / "pyproject.toml")
    return scratch


def lint_imports(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=directory,
        env={"PYTHONPATH": str(directory), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_layers_contract_holds_and_fails_on_an_import_against_the_layers(scratch_copy: Path) -> None:
    kept = lint_imports(scratch_copy)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "2 kept, 0 broken" in kept.stdout

    errors = scratch_copy / "service" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport harness.pytest_plugin.reports  # noqa: E402,F401\n")
    broken = lint_imports(scratch_copy)

    assert broken.returncode != 0
    assert "service.errors -> harness.pytest_plugin.reports" in broken.stdout
    assert "BROKEN" in broken.stdout
