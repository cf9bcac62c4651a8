"""`mlops-deploy`: stand a deployment up, verify it with the live suites, watch it, take it down.

Also runnable as `python mlops_deploy.py ...`. Every failure ends in one line on stderr and a non-zero exit.
"""

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import ConfigError, load_config
from .environments import ENVIRONMENTS, attach_deployment, create_deployment
from .errors import DeploymentError
from .run_report import render

STATE_FILE = Path(".mlops-deploy/deployment.json")
REPORTS = Path("reports")
ACTIONS = ("deploy", "test", "full", "teardown", "monitor", "rollback", "sweep")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlops-deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--action", choices=ACTIONS, required=True)
    parser.add_argument("--env", choices=ENVIRONMENTS, default="process")
    parser.add_argument("--config", default="azure_config.yaml")
    parser.add_argument("--keep", action="store_true", help="full: leave the deployment up afterwards")
    parser.add_argument("--pytest-args", default="", help="extra arguments for the live suites, quoted")
    return parser.parse_args(argv)


def deploy(args: argparse.Namespace) -> int:
    if STATE_FILE.exists():
        state = json.loads(STATE_FILE.read_text())
        print(f"already deployed: {attach_deployment(state).url} (mlops-deploy --action teardown removes it)")
        return 0
    config = load_config(args.config)
    deployment = create_deployment(
        args.env,
        env={"WEB_CONCURRENCY": str(config.deployment.web_concurrency)},
        session="mlops-deploy",
        startup_timeout_s=config.deployment.startup_timeout_s,
    )
    try:
        deployment.start()
    except BaseException:
        deployment.teardown()
        raise
    STATE_FILE.parent.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(deployment.state()))
    print(f"deployed ({args.env}): {deployment.url} running {deployment.version}")
    return 0


def teardown(_: argparse.Namespace) -> int:
    if not STATE_FILE.exists():
        print("nothing to tear down")
        return 0
    deployment = attach_deployment(json.loads(STATE_FILE.read_text()))
    deployment.teardown()
    STATE_FILE.unlink()
    print(f"tore down {deployment.url}")
    return 0


def run_suites(args: argparse.Namespace, target: list[str]) -> int:
    """The live suites in a pytest of their own, then the short report."""
    REPORTS.mkdir(exist_ok=True)
    junit = REPORTS / "junit-run.xml"
    for stale in (junit, REPORTS / "load.json", REPORTS / "deployment.json"):
        stale.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "deploy",
        *target,
        "--config",
        args.config,
        f"--junitxml={junit}",
        "-q",
        *args.pytest_args.split(),
    ]
    code = subprocess.run(command, check=False).returncode
    if junit.exists():
        print("\n" + render(junit, REPORTS / "load.json", REPORTS / "deployment.json"))
    return code


def test(args: argparse.Namespace) -> int:
    if STATE_FILE.exists():
        url = attach_deployment(json.loads(STATE_FILE.read_text())).url
        return run_suites(args, ["--api-url", url])
    return run_suites(args, ["--env", args.env])


def full(args: argparse.Namespace) -> int:
    return run_suites(args, ["--env", args.env, *(["--keep"] if args.keep else [])])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    handlers = {"deploy": deploy, "teardown": teardown, "test": test, "full": full}
    handler = handlers.get(args.action)
    try:
        if handler is None:
            raise DeploymentError(f"--action {args.action} is not available yet")
        return handler(args)
    except (DeploymentError, ConfigError) as error:
        print(f"mlops-deploy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
