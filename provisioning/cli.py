"""`mlops-deploy`: stand a deployment up, verify it with the live suites, watch it, take it down.

Also runnable as `python mlops_deploy.py ...`. Every failure ends in one line on stderr and a non-zero exit.
"""

import argparse
import os
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from provisioning import environments
from provisioning.config import AZURE_TARGETS, ConfigError, ProjectConfig, load_config, with_azure_target
from provisioning.environments import ENVIRONMENTS, attach_deployment
from provisioning.environments.base import Deployment
from provisioning.environments.leftovers import remove_leftovers
from provisioning.environments.ownership import Ownership
from provisioning.environments.secrets import SECRET_VARIABLES
from provisioning.errors import DeploymentError
from provisioning.models.stores import (
    SERVED_FROM_STORE,
    STORE_SECRET,
    never_published,
    open_environment_store,
    serving_env,
    store_location,
)
from provisioning.state_file import StateFile
from provisioning.suite_runner import run_suites
from provisioning.termination import Terminated, handle_sigterm_as_interrupt
from service.model_store import ModelStore, ModelStoreError

STATE_FILE = Path(".mlops-deploy/deployment.json")
ACTIONS = {
    "deploy": "stand the API up in --env and record it in .mlops-deploy/deployment.json (no secret values)",
    "test": "run the live suites against the recorded deployment (--action full deploys one for them)",
    "monitor": "poll /health of the recorded deployment (or --url) every --interval for --duration",
    "full": "deploy in --env, run every live suite, print the report, tear down (unless --keep)",
    "teardown": "remove the recorded deployment and everything it created; says what it removed",
    "rollback": "prod: serve what ran before the current image (Container Apps: the previous revision)",
    "sweep": "prod: delete this project's resource groups whose DeleteAfter time has passed",
    "publish": "fit, evaluate and publish the configured models to --env's model store",
    "models": "list the current model versions in --env's model store and how they scored",
    "manifests": "AKS: write the Deployment, Service, HPA and PodDisruptionBudget for this config into --out",
    "cost": "monthly cost per resource on each target from the price snapshot, and the last prod sessions' cost",
    "prices": "the price snapshot's date and size (--refresh: rebuild it from Azure's Retail Prices API)",
}
EXIT_INCOMPLETE_PRICES = 3
PROVISIONING_ACTIONS = frozenset({"deploy", "test", "full"})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    width = max(map(len, ACTIONS))
    parser = argparse.ArgumentParser(
        prog="mlops-deploy",
        description=(__doc__ or "").splitlines()[0],
        epilog="actions:\n" + "\n".join(f"  {name:<{width}}  {what}" for name, what in ACTIONS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--action", choices=list(ACTIONS), required=True, help="what to do (see below)")
    parser.add_argument(
        "--env", choices=ENVIRONMENTS, default=None, help="default: the recorded deployment's, else process"
    )
    parser.add_argument("--config", default="azure_config.yaml")
    parser.add_argument(
        "--azure-target",
        choices=AZURE_TARGETS,
        default=None,
        help="prod: ACI or Container Apps (default: azure.target)",
    )
    parser.add_argument(
        "--image",
        default=None,
        help="deploy, prod: push and deploy this local image instead of building the project's "
        "(Container Apps rolls it out as a canary)",
    )
    parser.add_argument("--out", type=Path, default=Path("k8s"), help="manifests: the directory to write them to")
    parser.add_argument("--refresh", action="store_true", help="prices: fetch the snapshot from prices.azure.com")
    parser.add_argument("--keep", action="store_true", help="full: leave the deployment up afterwards")
    parser.add_argument(
        "--force", action="store_true", help="deploy: replace a recorded deployment of another --env (tears it down)"
    )
    parser.add_argument("--pytest-args", default="", help="extra arguments for the live suites, quoted")
    parser.add_argument("--duration", type=positive, default=None, help="monitor: stop after this many seconds")
    parser.add_argument(
        "--interval",
        type=positive,
        default=None,
        help="monitor: seconds between checks (default: monitoring.health_check_interval_s)",
    )
    parser.add_argument("--url", default=None, help="monitor: the API to watch (default: the recorded deployment)")
    parser.add_argument("--monitor-log", default="reports/monitor.jsonl", help="monitor: JSON lines, one per check")
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"), help="test, full: where reports go")
    args = parser.parse_args(argv)
    args.env = args.env or recorded_environment() or "process"
    return args


def positive(text: str) -> float:
    """A number of seconds above zero, for argparse (which turns the ValueError into a one-line usage error)."""
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def recorded_environment() -> str | None:
    """The environment of the recorded deployment, read without attaching to it."""
    state = StateFile(STATE_FILE).read()
    return str(state["environment"]) if state else None


def service_env(config: ProjectConfig, environment: str | None = None) -> dict[str, str]:
    """The API key from our environment, and the environment's model store when it holds every served model (the
    prod store is wired by the Azure part)."""
    store = {}
    if environment in SERVED_FROM_STORE:
        store = serving_env(config.models.store, str(environment), os.environ.get(STORE_SECRET))
    return environments.service_env(config, api_key=os.environ.get("API_KEY"), store=store)


def recorded(config: ProjectConfig) -> Deployment | None:
    """The deployment the state file records, recording every change back to it (None when there is no record)."""
    state_file = StateFile(STATE_FILE)
    state = state_file.read()
    if state is None:
        return None
    secrets = {name: os.environ[name] for name in SECRET_VARIABLES if os.environ.get(name)}  # never recorded
    return attach_deployment(state, config, secrets).recording_to(state_file.write)


def deploy(args: argparse.Namespace, config: ProjectConfig) -> int:
    """A new deployment, or the recorded one brought up to date. The record follows what exists at every step:
    none for a deploy that created nothing, exactly what a half-done one created, nothing after its undo."""
    existing = recorded(config)
    if existing is not None and existing.environment != args.env:
        replace(existing, args)
        existing = None
    if existing is not None:
        if args.image is not None:
            from provisioning.environments.azure.run_deployment import AzureRunDeployment

            if not isinstance(existing, AzureRunDeployment):
                raise DeploymentError(
                    f"--image redeploys a prod deployment; the recorded one is {existing.environment}"
                )
            existing.use_local_image(args.image)
        existing.start()  # a failure leaves the record (rewritten by start) for --action teardown
        verb = "deployed" if existing.created_now else "already deployed"
        where = f"{existing.url} running {existing.version}"
        print(f"{verb} ({existing.environment}): {where} (--action teardown removes it)")
        return 0
    env = service_env(config, args.env)
    deployment = environments.provision(
        args.env,
        project=config,
        env=env,
        ownership=Ownership(f"mlops-deploy-{uuid.uuid4().hex[:12]}"),  # no owner: it outlives this command
        recorder=StateFile(STATE_FILE).write,
        on_undo=say_what_was_undone,
        local_image=args.image,
    )
    print(f"deployed ({args.env}): {deployment.url} running {deployment.version}")
    print(f"models: {'from ' + env['MODEL_STORE'] if 'MODEL_STORE' in env else 'fitted at start-up'}")
    return 0


def replace(existing: Deployment, args: argparse.Namespace) -> None:
    """With --force, tear down the recorded deployment of another environment so `args.env` can be deployed;
    without it, refuse: deploying there would leave the recorded one running and unrecorded."""
    if not args.force:
        raise DeploymentError(f"a {existing.environment} deployment is on record, not {args.env}: --force replaces it")
    removed = existing.teardown()
    print(f"replaced the {existing.environment} deployment: removed {', '.join(removed) or 'nothing was left'}")


def say_what_was_undone(removed: list[str]) -> None:
    if removed:
        print(f"mlops-deploy: the failed deploy was undone: removed {', '.join(removed)}", file=sys.stderr)


def teardown(_: argparse.Namespace, config: ProjectConfig) -> int:
    deployment = recorded(config)
    if deployment is None:
        print("nothing to tear down")
        return 0
    removed = deployment.teardown()  # removes the record once nothing is left
    if removed:
        print(f"tore down the {deployment.environment} deployment: removed {', '.join(removed)}")
    else:
        print(f"nothing was left of the recorded {deployment.environment} deployment; its record is removed")
    return 0


def rollback(_: argparse.Namespace, config: ProjectConfig) -> int:
    from provisioning.environments.azure.run_deployment import AzureRunDeployment

    deployment = recorded(config)
    if not isinstance(deployment, AzureRunDeployment):
        raise DeploymentError("rollback needs a prod deployment made with --action deploy --env prod")
    previous = deployment.rollback()  # recorded after every attempt, failed or not
    print(f"rolled back to {previous}: {deployment.url}")
    return 0


def sweep(_: argparse.Namespace, config: ProjectConfig) -> int:
    from provisioning.environments.azure.clients import AzureClients
    from provisioning.environments.azure.progress import Progress
    from provisioning.environments.azure.settings import AzureEnvironment
    from provisioning.environments.azure.sweep import sweep as sweep_expired

    deleted = sweep_expired(AzureClients(AzureEnvironment()), Progress(), config.azure.operation_timeout_s)
    print(f"deleted {len(deleted)} expired resource group(s){': ' + ', '.join(deleted) if deleted else ''}")
    return 0


def environment_store(args: argparse.Namespace, config: ProjectConfig, *, create: bool = False) -> ModelStore:
    """prod: the recorded deployment's own store (its account found through ARM, reached with its key); else the
    configured one. `deploy` again afterwards makes the deployment serve what was published."""
    if args.env == "prod":
        from provisioning.environments.azure.run_deployment import AzureRunDeployment

        deployment = recorded(config)
        storage = deployment.model_storage() if isinstance(deployment, AzureRunDeployment) else None
        if storage is not None:
            return storage.open(create=create)
    connection_string = os.environ.get(STORE_SECRET)
    return open_environment_store(config.models.store, args.env, connection_string=connection_string, create=create)


def publish(args: argparse.Namespace, config: ProjectConfig) -> int:
    """Fit, evaluate and publish the configured models to the environment's store; non-zero if any is refused."""
    from provisioning.models.publishing import publish_models
    from provisioning.models.tables import Row, evaluation_table, gate_status
    from provisioning.models.training_data import load_training_data

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
    from provisioning.models.tables import evaluation_table, store_rows

    if args.env != "prod" and never_published(config.models.store, args.env):
        rows, location = [], store_location(config.models.store, args.env)
    else:
        store = environment_store(args, config)
        rows, location = store_rows(store), store.location
    empty = f"no models published: run --action publish --env {args.env}"
    print(f"model store {location}\n{evaluation_table(rows) if rows else empty}")
    return 0


def manifests(args: argparse.Namespace, config: ProjectConfig) -> int:
    """The AKS manifests for `--image` (default: the image `make image` builds), ready for `kubectl apply -f`."""
    from provisioning.kubernetes.manifests import render, write
    from service import __version__

    image = args.image or f"{config.deployment.image_name}:{__version__}"
    for path in write(render(config, image, __version__), args.out):
        print(path)
    return 0


def cost(args: argparse.Namespace, config: ProjectConfig) -> int:
    """Prints reports/cost.md; exits 3 when the configured target needs a price the snapshot lacks (named)."""
    from provisioning.cost.report import write_reports

    text, missing = write_reports(config, args.reports_dir)
    print(text, end="")
    if missing:
        print(f"mlops-deploy: the {config.azure.target} estimate is incomplete: {missing}", file=sys.stderr)
        return EXIT_INCOMPLETE_PRICES
    return 0


def prices(args: argparse.Namespace, config: ProjectConfig) -> int:
    from provisioning.cost.prices import SNAPSHOT, load_snapshot
    from provisioning.cost.refresh import refresh

    if args.refresh:
        print(f"{SNAPSHOT}: {refresh(config.azure.location)} items for {config.azure.location}")
    snapshot = load_snapshot()
    regions = sorted({item.armRegionName for item in snapshot.items})
    print(f"price snapshot of {snapshot.snapshot_date}: {len(snapshot.items)} items ({', '.join(regions)})")
    return 0


def test(args: argparse.Namespace, config: ProjectConfig) -> int:
    deployment = recorded(config)
    if deployment is None:
        raise DeploymentError("nothing deployed: run --action deploy first (--action full deploys, tests, tears down)")
    return run_suites(args, ["--api-url", deployment.url])


def full(args: argparse.Namespace, config: ProjectConfig) -> int:
    from provisioning.cost.report import write_reports

    code = run_suites(args, ["--env", args.env, *(["--keep"] if args.keep else [])])
    text, missing = write_reports(config, args.reports_dir)
    summary = text.split("\n## ", 1)[0].strip()
    print(f"\n{summary}\n(per resource: {args.reports_dir / 'cost.md'})" + (f"\ncost: {missing}" if missing else ""))
    return code


def monitor(args: argparse.Namespace, config: ProjectConfig) -> int:
    """Poll /health of the recorded deployment (or --url) until --duration ends or it fails N times in a row."""
    from provisioning.monitoring.health_monitor import run_monitor

    deployment = recorded(config)
    url = args.url or (deployment.url if deployment else None)
    if url is None:
        raise DeploymentError("nothing to monitor: deploy first (--action deploy) or pass --url")
    return run_monitor(config, url, duration_s=args.duration, interval_s=args.interval, log_path=Path(args.monitor_log))


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
    "manifests": manifests,
    "cost": cost,
    "prices": prices,
}


def sweep_dead_sessions() -> None:
    """Remove what harness sessions killed with SIGKILL left behind (their reaper normally does it first)."""
    for leftover in remove_leftovers():
        print(f"mlops-deploy: removed what a dead session left: {leftover}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    handle_sigterm_as_interrupt()
    try:
        if args.action in PROVISIONING_ACTIONS:
            sweep_dead_sessions()
        config = with_azure_target(load_config(args.config), args.azure_target)
        return HANDLERS[args.action](args, config)
    except (DeploymentError, ConfigError, ModelStoreError, ValueError, OSError) as error:
        print(f"mlops-deploy: {error}{still_recorded()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, Terminated)
        print(f"mlops-deploy: {'terminated' if terminated else 'interrupted'}{still_recorded()}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)


def still_recorded() -> str:
    """For a failure message: whether a deployment is still on record (so the user knows what to run next)."""
    return f" ({STATE_FILE} records a deployment: --action teardown removes it)" if STATE_FILE.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
