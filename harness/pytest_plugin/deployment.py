"""The session's one deployment: provisioned on first use, shared by xdist workers, torn down exactly once.

How sharing works: the first process that needs the deployment provisions it under a file lock in the session's
shared temp directory and records its state there, at every step (provisioning/state_file.py); every other worker
attaches to that record. Teardown happens once, in the controller (or the only process) at session finish, which
pytest runs after a pass, a failure, a Ctrl-C or a SIGTERM (harness/pytest_plugin/lifecycle.py). Tests that take the
deployment down hold an exclusive lock while all other live tests hold a shared one, so a restart never races
another worker's requests.

What a session starts carries its session id and its owner, the controller (provisioning/environments/
ownership.py), and a reaper process waits for the owner's exit: after a SIGKILL, where no teardown can run, it
removes them.
"""

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.pytest_plugin.model_store import export_session_models, publish_session_models
from harness.pytest_plugin.reports import reports_dir
from harness.synthetic_traffic import verification_headers
from provisioning.config import ProjectConfig
from provisioning.environments import attach_deployment, provision, service_env
from provisioning.environments.base import Deployment
from provisioning.environments.ownership import Owner, Ownership
from provisioning.environments.reaper import start_reaper
from provisioning.errors import DeploymentError, LogsUnavailable
from provisioning.models.stores import SERVED_FROM_STORE
from provisioning.state_file import StateFile

STATE_FILE = "deployment.json"
ERROR_FILE = "deployment.error"
REAPER_PID_FILE = "reaper.pid"
REAPED_ENVIRONMENTS = ("process", "local")
PROVISION_LOCK = "deployment.lock"
USAGE_LOCK = "deployment.usage.lock"
LIVE_FIXTURES = frozenset({"deployment", "live_url", "api", "deployment_control"})
EXCLUSIVE_SKIP = (
    "--api-url: this test needs the deployment to itself (it stops, restarts or overloads it, injects faults or "
    "counts its requests exactly); a deployment others use gets only tests that leave it as it was"
)


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def shared_dir(config: pytest.Config) -> Path:
    """A directory the controller and every worker of this session see (the root of pytest's basetemp)."""
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    base = factory.getbasetemp()
    return base.parent if is_xdist_worker(config) else base


@contextmanager
def file_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_ownership(config: pytest.Config, keep: bool) -> Ownership:
    """This session's marks. The owner is the process that tears down: the controller, which is an xdist
    worker's parent. A `--keep` deployment has none: it is meant to outlive the session."""
    session = f"pytest-{uuid.uuid4().hex[:12]}"  # unique: teardown removes all its containers
    if keep:
        return Ownership(session)
    return Ownership(session, Owner.of(os.getppid() if is_xdist_worker(config) else os.getpid()))


@dataclass(frozen=True)
class HarnessOptions:
    environment: str
    api_url: str | None
    keep: bool
    api_key: str | None


class ExternalDeployment(Deployment):
    """A deployment someone else runs (`--api-url`): verified, never provisioned, stopped or torn down."""

    environment = "external"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url.rstrip("/")

    @property
    def url(self) -> str:
        return self._url

    @property
    def version(self) -> str:
        return str(httpx.get(f"{self._url}/health", timeout=10).json().get("version", "unknown"))

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pytest.skip("--api-url: this run does not control the deployment, so it cannot stop it")

    def teardown(self) -> list[str]:
        return []

    def state(self) -> dict[str, Any]:
        return {"environment": self.environment, "url": self._url}

    def logs(self) -> str:
        pytest.skip("--api-url: the deployment's logs are not available to this run")


def provision_or_attach(config: pytest.Config, options: HarnessOptions, project: ProjectConfig) -> Deployment:
    """The session's deployment: created by whichever process asks first, attached to by the rest."""
    directory = shared_dir(config)
    state_file = StateFile(directory / STATE_FILE)
    error_file = directory / ERROR_FILE
    with file_lock(directory / PROVISION_LOCK):
        if error_file.exists():
            raise DeploymentError(f"provisioning failed earlier in this session: {error_file.read_text()}")
        state = state_file.read()
        if state is not None:
            if published := state.get("env", {}).get("MODEL_STORE"):
                export_session_models(published)  # for the sessions this worker's tests start
            return attach_deployment(state, project, session_secrets(options)).recording_to(state_file.write)
        try:
            store = publish_session_models(directory, project) if options.environment in SERVED_FROM_STORE else {}
            ownership = session_ownership(config, options.keep)
            if ownership.owner is not None and options.environment in REAPED_ENVIRONMENTS:
                reaper = start_reaper(ownership.owner, ownership.session, directory / "reaper.log")
                (directory / REAPER_PID_FILE).write_text(str(reaper))
            deployment = provision(
                options.environment,  # type: ignore[arg-type]
                project=project,
                env=service_env(project, api_key=options.api_key, store=store),
                ownership=ownership,
                recorder=state_file.write,  # an undo that fails leaves the record for the session's finish
            )
        except BaseException as error:
            error_file.write_text(f"{type(error).__name__}: {error}")
            raise
        record_for_reports(config, deployment)
        return deployment


def session_secrets(options: HarnessOptions) -> dict[str, str]:
    """The secret values a record names but never holds: what this session deployed with."""
    return {"API_KEY": options.api_key} if options.api_key else {}


def record_for_reports(config: pytest.Config, deployment: Deployment) -> None:
    """deployment.json in the reports: where this session's suites ran, for the run report."""
    summary = {"environment": deployment.environment, "url": deployment.url, "version": deployment.version}
    (reports_dir(config) / "deployment.json").write_text(json.dumps(summary))


def teardown_session_deployment(config: pytest.Config, keep: bool, project: ProjectConfig) -> str | None:
    """Called once at session finish (never in a worker). Returns a line for the terminal summary."""
    directory = shared_dir(config)
    state_file = StateFile(directory / STATE_FILE)
    with file_lock(directory / PROVISION_LOCK):
        state = state_file.read()
        if state is None:
            return None
        deployment = attach_deployment(state, project).recording_to(state_file.write)
        if keep:
            return f"--keep: the {state['environment']} deployment is still up at {deployment.url}"
        url = state.get("url") or _url_or_none(deployment)
        removed = deployment.teardown()  # removes the record once nothing is left
        what = f": removed {', '.join(removed)}" if removed else ": nothing of it was left"
        return f"tore down the {state['environment']} deployment at {url}{what}"


def _url_or_none(deployment: Deployment) -> str | None:
    try:
        return deployment.url
    except DeploymentError:  # a prod deployment that never got as far as an address
        return None


@pytest.fixture(scope="session")
def deployment(
    request: pytest.FixtureRequest,
    pytestconfig: pytest.Config,
    harness_options: HarnessOptions,
    project_config: ProjectConfig,
    deployment_target: None,
) -> Deployment:
    """The live deployment of this session (see the module docstring for how it is shared)."""
    if harness_options.api_url:
        return ExternalDeployment(harness_options.api_url)
    provisioned = provision_or_attach(pytestconfig, harness_options, project_config)
    if not is_xdist_worker(pytestconfig):
        # Without workers this process is the controller: tear down as a fixture, so it happens before the
        # fixtures it depends on (an ARM emulator, say) go away. Session finish is the safety net.
        request.addfinalizer(lambda: finish_session(pytestconfig, harness_options.keep, project_config))
    return provisioned


SUMMARY_KEY = pytest.StashKey[str]()


def finish_session(config: pytest.Config, keep: bool, project: ProjectConfig) -> None:
    """Tear the session's deployment down (once: later calls find nothing) and remember the line to print."""
    line = teardown_session_deployment(config, keep=keep, project=project)
    if line:
        config.stash[SUMMARY_KEY] = line


@pytest.fixture(scope="session")
def deployment_target(request: pytest.FixtureRequest, harness_options: HarnessOptions) -> Iterator[None]:
    """Where the deployment goes. For `--env prod --azure-emulator`, the ARM emulator (with its image registry)
    stands in for Azure: the AZURE_* variables point every management client at it for the whole session."""
    if harness_options.environment != "prod" or not request.config.getoption("--azure-emulator"):
        yield
        return
    emulator = request.getfixturevalue("arm_emulator")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in emulator.environment().items():
            patch.setenv(name, str(value))
        patch.setenv("AZURE_POLLING_INTERVAL_S", "0")
        patch.setenv("AZURE_INGRESS_SCHEME", "http")  # the emulator's Container Apps ingress is plain HTTP
        yield
    # After the deployment's own teardown: record the ARM calls the rehearsal made, and prove nothing is left.
    reports = reports_dir(request.config)
    (reports / "arm_calls.json").write_text(json.dumps(emulator.arm_calls(), indent=1))
    requests = [entry for entry in emulator.requests() if entry["kind"] != "poll"]
    (reports / "arm_requests.json").write_text(json.dumps(requests, indent=1))
    emulator.assert_holds_nothing()


@pytest.fixture
def live_url(pytestconfig: pytest.Config, deployment: Deployment) -> Iterator[str]:
    """The deployment's URL, held with a shared lock so no other worker takes it down during this test."""
    with file_lock(shared_dir(pytestconfig) / USAGE_LOCK, shared=True):
        yield deployment.url


@pytest.fixture
def api(live_url: str, harness_options: HarnessOptions) -> Iterator[httpx.Client]:
    """An HTTP client on the live deployment: its requests marked synthetic, with the API key when there is one."""
    with httpx.Client(base_url=live_url, headers=verification_headers(harness_options.api_key), timeout=30) as client:
        yield client


def skip_unless_ours(options: HarnessOptions) -> None:
    """For tests outside `deployment_control` that still need the deployment to themselves (load that would trip
    ApiCpuHigh): they skip under --api-url, with the reason."""
    if options.api_url:
        pytest.skip(EXCLUSIVE_SKIP)


def answers_health(deployment: Deployment) -> bool:
    """Whether the deployment is up and ready now (starting a prod deployment that is would re-apply all of it)."""
    try:
        return httpx.get(f"{deployment.url}/health", timeout=5).status_code == 200
    except (httpx.HTTPError, DeploymentError):
        return False


@pytest.fixture
def deployment_control(
    pytestconfig: pytest.Config, deployment: Deployment, project_config: ProjectConfig, harness_options: HarnessOptions
) -> Iterator[Deployment]:
    """The deployment for tests that stop, start or restart it, cause faults on it or count its requests exactly:
    exclusive, and its new state is recorded after. Under --api-url such tests skip: others use that deployment."""
    if isinstance(deployment, ExternalDeployment):
        pytest.skip(EXCLUSIVE_SKIP)
    directory = shared_dir(pytestconfig)
    with file_lock(directory / USAGE_LOCK):
        state_file = StateFile(directory / STATE_FILE)
        with file_lock(directory / PROVISION_LOCK):
            record = state_file.read() or deployment.state()
            current = attach_deployment(record, project_config, session_secrets(harness_options))
        current.recording_to(state_file.write)
        try:
            yield current
        finally:
            if not answers_health(current):
                current.start()  # a test that left it down must not leave the next test without a deployment


SWEEP_LOCK = "sweep.lock"


@pytest.fixture
def sweeps_dead_sessions(pytestconfig: pytest.Config) -> Iterator[None]:
    """For tests that start pytest sessions or `mlops-deploy` commands of their own: each of those first removes
    what dead sessions left. Any number of them may run at once (a shared lock), but none beside a test that holds
    `sweeping_alone`, whose evidence their sweep would take away."""
    with file_lock(shared_dir(pytestconfig) / SWEEP_LOCK, shared=True):
        yield


@pytest.fixture
def sweeping_alone(pytestconfig: pytest.Config) -> Iterator[None]:
    """For tests that leave a killed session's leftovers and check who removes them (its reaper, or the next
    session): no other session may sweep meanwhile. xdist workers take turns through the lock in the session's
    shared directory."""
    with file_lock(shared_dir(pytestconfig) / SWEEP_LOCK):
        yield


@pytest.fixture
def own_process_deployments(harness_options: HarnessOptions) -> None:
    """For tests that stand up process deployments of their own through `mlops-deploy --env process`, whatever
    the session's environment: what they prove does not change with it, so they run once, in the `--env process`
    session, rather than again in every environment's (in the prod rehearsal they cost minutes)."""
    if harness_options.environment != "process" or harness_options.api_url:
        pytest.skip("deploys process deployments of its own: runs in the --env process session only")


def logs_or_skip(deployment: Deployment) -> str:
    """The deployment's console output; the test skips where the platform keeps it out of reach (Container Apps)."""
    try:
        return deployment.logs()
    except LogsUnavailable as error:
        pytest.skip(f"no console output to read: {error}")
