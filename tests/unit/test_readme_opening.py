"""The README opens with what each command needs and does to the machine, and a serve-only path that works as
written: checked against the scripts, pyproject.toml and the service's settings, so the table cannot rot."""

import re
from pathlib import Path

from service.config import Settings

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
COMMANDS = (
    "serve only",
    "`make run`",
    "`make test`",
    "`make check`",
    "--env process",
    "--env local",
    "--env prod",
    "--api-url",
)


def section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_rows() -> dict[str, list[str]]:
    rows = [line for line in section("What it needs, what it does").splitlines() if line.startswith("| ")]
    header, *body = rows
    assert header == "| command | needs | what it does to the machine | time |"
    cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in body if not row.startswith("|---")]
    return {command: row for command in COMMANDS for row in cells if command in row[0]}


def test_the_readme_opens_with_what_each_command_needs_then_the_serve_only_path() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert headings[:2] == ["What it needs, what it does", "Just serve the API"]
    rows = table_rows()
    assert set(rows) == set(COMMANDS)
    assert all(len(row) == 4 and all(row) for row in rows.values()), "every cell says something"


def test_make_run_names_what_it_installs() -> None:
    packages = set(re.findall(r"\]=([\w-]+)", (ROOT / "scripts" / "install_system_packages.sh").read_text()))
    needs, does = table_rows()["`make run`"][1:3]
    named = {"prometheus": "Prometheus", "prometheus-alertmanager": "Alertmanager"}
    assert all(named.get(package, package) in does for package in packages), (packages, does)
    assert "Node.js 18+" in needs and "Node.js 18+" in (ROOT / "scripts" / "install_azurite.sh").read_text()
    assert "root" in needs and "docker.io" in does and "dockerd" in does


def test_the_serve_only_path_is_the_projects_own() -> None:
    block = section("Just serve the API").split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    port = Settings.model_fields["port"].default
    assert commands == ["pip install -e '.[service]'", "python -m service", f"curl localhost:{port}/health"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"arch", "fastapi", "uvicorn[standard]"} <= {re.split(r"[<>=]", dep)[0] for dep in extras["service"]}
    assert "/docs" in block and "python -m service --help" in block
