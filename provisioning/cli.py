"""`mlops-deploy`: stand a deployment up, verify it with the live suites, watch it, take it down.

Also runnable as `python mlops_deploy.py ...`. Every failure ends in one line on stderr and a non-zero exit.
"""

import argparse
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from service.model_store import ModelStore, ModelStoreError

from .config import ConfigError, ProjectConfig, load_config
from .deployment import Deployment
from .environment_store import SERVED_FROM_STORE, STORE_SECRET, open_environment_store, serving_env
from .environments import ENVIRONMENTS, SECRET_VARIABLES, attach_deployment, create_deployment
from .errors import DeploymentError
from .run_report import render

STATE_FILE = Path(".mlops-deploy/deployment.json")
REPORTS = Path("reports")
ACTIONS = ("deploy", "test", "monitor", "full", "teardown", "rollback", "sweep", "publish", "models")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlops-deploy", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--action", choices=ACTIONS, required=True)
    parser.add_argument("--env", choices=ENVIRONMENTS, default="process")
    parser.add_argument("--config", default="azure_config.yaml")
    parser.add_argument("--keep", action="store_true", help="full: leave the deployment up afterwards")
    parser.add_argument("--pytest-args", default="", help="extra arguments for the live suites, quoted")
    parser.add_argument("--duration", type=float, default=None, help="monitor: stop after this many seconds")
    parser.add_argument("--url", default=None, help="monitor: the API to watch (default: the recorded deployment)")
    parser.add_argument("--monitor-log", default="reports/monitor.jsonl", help="monitor: JSON lines, one per check")
    return parser.parse_args(argv)


def service_env(config: ProjectConfig, environment: str | None = None) -> dict[str, str]:
    """What the deployed service is told: sizes from the configuration, the API key from our environment, and
    the environment's model store when it holds every served model (the prod store is wired by the Azure part)."""
    env = {"WEB_CONCURRENCY": str(config.deployment.web_concurrency)}
    if os.environ.get("API_KEY"):
        env["API_KEY"] = os.environ["API_KEY"]
    if environment in SERVED_FROM_STORE:
        env.update(serving_env(config.models.store, environment, os.environ.get(STORE_SECRET)))
    return env


def recorded(config: ProjectConfig) -> Deployment | None:
    if not STATE_FILE.exists():
        return None
    secrets = {k: v for k, v in service_env(config).items() if k in SECRET_VARIABLES}
    return attach_deployment(json.loads(STATE_FILE.read_text()), config, secrets)


def deploy(args: argparse.Namespace, config: ProjectConfig) -> int:
    existing = recorded(config)
    if existing is not None:
        existing.start()  # idempotent: unchanged when it already runs what we would deploy
        print(f"already deployed: {existing.url} running {existing.version} (--action teardown removes it)")
        return 0
    env = service_env(config, args.env)
    deployment = create_deployment(args.env, project=config, env=env, session=f"mlops-deploy-{uuid.uuid4().hex[:12]}")
    STATE_FILE.parent.mkdir(exist_ok=True)
    try:
        deployment.start()
    except BaseException:
        deployment.teardown()
        raise
    finally:
        STATE_FILE.write_text(json.dumps(deployment.state()))
    print(f"deployed ({args.env}): {deployment.url} running {deployment.version}")
    print(f"models: {'from ' + env['MODEL_STORE'] if 'MODEL_STORE' in env else 'fitted at start-up'}")
    return 0


def teardown(_: argparse.Namespace, config: ProjectConfig) -> int:
    deployment = recorded(config)
    if deployment is None:
        print("nothing to tear down")
        return 0
    deployment.teardown()
    STATE_FILE.unlink()
    print(f"tore down the {deployment.environment} deployment")
    return 0


def rollback(_: argparse.Namespace, config: ProjectConfig) -> int:
    from .azure.aci_deployment import AciDeployment

    deployment = recorded(config)
    if not isinstance(deployment, AciDeployment):
        raise DeploymentError("rollback needs a prod deployment made with --action deploy --env prod")
    previous = deployment.rollback()
    STATE_FILE.write_text(json.dumps(deployment.state()))
    print(f"rolled back to {previous}: {deployment.url}")
    return 0


def sweep(_: argparse.Namespace, config: ProjectConfig) -> int:
    from .azure.clients import AzureClients
    from .azure.progress import Progress
    from .azure.settings import AzureEnvironment
    from .azure.sweep import sweep as sweep_expired

    deleted = sweep_expired(AzureClients(AzureEnvironment()), Progress(), config.azure.operation_timeout_s)
    print(f"deleted {len(deleted)} expired resource group(s){': ' + ', '.join(deleted) if deleted else ''}")
    return 0


def environment_store(args: argparse.Namespace, config: ProjectConfig, *, create: bool = False) -> ModelStore:
    """prod: the recorded deployment's own store (its account found through ARM, reached with its key); else the
    configured one. `deploy` again afterwards makes the deployment serve what was published."""
    if args.env == "prod":
        from .azure.aci_deployment import AciDeployment

        deployment = recorded(config)
        storage = deployment.model_storage() if isinstance(deployment, AciDeployment) else None
        if storage is not None:
            return storage.open(create=create)
    connection_string = os.environ.get(STORE_SECRET)
    return open_environment_store(config.models.store, args.env, connection_string=connection_string, create=create)


def publish(args: argparse.Namespace, config: ProjectConfig) -> int:
    """Fit, evaluate and publish the configured models to the environment's store; non-zero if any is refused."""
    from .model_publishing import publish_models
    from .model_tables import Row, evaluation_table, gate_status
    from .training_data import load_training_data

    models = config.models
    store = environment_store(args, config, create=True)
    outcomes = publish_models(models.publish, store, load_training_data(models.data), models.evaluation)
    rows = [
        Row(o.artifact, o.pointer.version if o.pointer else None, gate_status(o.artifact, not o.refused))
        for o in outcomes
    ]
    print(f"model store {store.location}\n{evaluation_table(rows)}")
    refused = [outcome for outcome in outcomes if outcome.refused]
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise DeploymentError(f"not published: {refused[0].reason()}{more}")
    return 0


def models(args: argparse.Namespace, config: ProjectConfig) -> int:
    """The current version of each model in the environment's store, and how it scored."""
    from .model_tables import evaluation_table, store_rows

    store = environment_store(args, config)
    rows = store_rows(store)
    print(f"model store {store.location}\n{evaluation_table(rows) if rows else 'no models published'}")
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


def test(args: argparse.Namespace, config: ProjectConfig) -> int:
    deployment = recorded(config)
    return run_suites(args, ["--api-url", deployment.url] if deployment else ["--env", args.env])


def full(args: argparse.Namespace, _: ProjectConfig) -> int:
    return run_suites(args, ["--env", args.env, *(["--keep"] if args.keep else [])])


def monitor(args: argparse.Namespace, config: ProjectConfig) -> int:
    """Poll /health of the recorded deployment (or --url) until --duration ends or it fails N times in a row."""
    from .monitor import run_monitor

    deployment = recorded(config)
    url = args.url or (deployment.url if deployment else None)
    if url is None:
        raise DeploymentError("nothing to monitor: deploy first (--action deploy) or pass --url")
    return run_monitor(config, url, duration_s=args.duration, log_path=Path(args.monitor_log))


HANDLERS: dict[str, Callable[[argparse.Namespace, ProjectConfig], int]] = {
    "deploy": deploy,
    "test": test,
    "monitor": monitor,
    "full": full,
    "teardown": teardown,
    "rollback": rollback,
    "sweep": sweep,
    "publish": publish,
    "models": models,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return HANDLERS[args.action](args, load_config(args.config))
    except (DeploymentError, ConfigError, ModelStoreError, ValueError, OSError) as error:
        print(f"mlops-deploy: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mlops-deploy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
