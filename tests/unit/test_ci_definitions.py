"""The CI definitions are valid for their platforms and run the same commands as the Makefile."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "cicd.yml"
PIPELINE = ROOT / "azure-pipelines.yml"
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema"]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def scripts_of(node: Any) -> list[str]:
    """Every shell script in a CI definition: GitHub `run`, Azure `script` and inline AzureCLI scripts."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "inlineScript") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(scripts_of(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(scripts_of(item))
    return found


def make_calls(path: Path) -> set[str]:
    scripts = scripts_of(yaml.safe_load(path.read_text()))
    return {target for script in scripts for target in re.findall(r"\bmake ([a-z][\w-]*)", script)}


@pytest.mark.parametrize(
    ("path", "arguments"),
    [
        (WORKFLOW, ["--builtin-schema", "vendor.github-workflows"]),
        (PIPELINE, ["--regex-variant", "python", "--builtin-schema", "vendor.azure-pipelines"]),
    ],
    ids=["github-workflow", "azure-pipeline"],
)
def test_definition_is_valid_for_its_platform(path: Path, arguments: list[str]) -> None:
    result = subprocess.run([*CHECK_JSONSCHEMA, *arguments, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_definitions_call_the_same_make_targets_and_they_exist() -> None:
    github, azure = make_calls(WORKFLOW), make_calls(PIPELINE)
    assert github == azure
    assert {"test-unit", "test", "image", "test-prod"} <= github
    assert github <= make_targets(), f"targets missing from the Makefile: {github - make_targets()}"


def claimed_pythons() -> list[str]:
    """What make test runs the unit suite on: 3.11 (the main run) and OTHER_PYTHONS (tox)."""
    makefile = (ROOT / "Makefile").read_text()
    other = re.search(r"^OTHER_PYTHONS \?= (.+)$", makefile, re.MULTILINE)
    assert other, "the Makefile names no OTHER_PYTHONS"
    return sorted(["3.11", *other.group(1).split()], key=lambda v: tuple(map(int, v.split("."))))


def test_every_claimed_python_is_tested_everywhere_and_prod_is_gated_on_main() -> None:
    versions = claimed_pythons()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={versions[0]}"
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["jobs"]["unit"]["strategy"]["matrix"]["python"] == versions
    assert workflow["jobs"]["prod"]["needs"] == "image" and "refs/heads/main" in workflow["jobs"]["prod"]["if"]
    pipeline = yaml.safe_load(PIPELINE.read_text())
    stages = {stage["stage"]: stage for stage in pipeline["stages"]}
    assert list(stages) == ["unit", "live", "image", "prod"]
    matrix = {v["python"] for v in stages["unit"]["jobs"][0]["strategy"]["matrix"].values()}
    assert matrix == set(versions)
    tox = (ROOT / "tox.ini").read_text()
    assert "[testenv:py3{" + ",".join(v.split(".")[1] for v in versions) + "}]" in tox
    assert "refs/heads/main" in stages["prod"]["condition"]
