"""The harness's command-line options, the configuration they load, and the hooks that mark live tests."""

import pytest

from harness.pytest_plugin.deployment import (
    LIVE_FIXTURES,
    SUMMARY_KEY,
    HarnessOptions,
    finish_session,
    is_xdist_worker,
)
from harness.pytest_plugin.verify_mode import api_key_option
from provisioning.config import AZURE_TARGETS, ConfigError, ProjectConfig, load_config, with_azure_target
from provisioning.environments import ENVIRONMENTS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("garch-mlops", "the live deployment under test")
    group.addoption(
        "--env",
        choices=ENVIRONMENTS,
        default="process",
        help="where to deploy the API for the live suites (default: process)",
    )
    group.addoption(
        "--api-url",
        default=None,
        help="verify an already running deployment at this URL (production included): a pre-flight checks it, "
        "every request is marked synthetic, tests that need the deployment to themselves skip; nothing is "
        "provisioned, restarted or torn down",
    )
    group.addoption(
        "--api-key",
        default=None,
        help="with --api-url: the API key the deployment expects (sent as X-API-Key)",
    )
    group.addoption("--keep", action="store_true", help="leave the deployment up after the run and print its URL")
    group.addoption(
        "--azure-emulator",
        action="store_true",
        help="with --env prod: rehearse against the local ARM emulator instead of Azure",
    )
    group.addoption(
        "--azure-target",
        choices=AZURE_TARGETS,
        default=None,
        help="with --env prod: Azure Container Instances or Container Apps (default: azure.target in --config)",
    )
    group.addoption("--config", default="azure_config.yaml", help="project configuration (sizes, thresholds)")
    group.addoption("--reports-dir", default=None, help="where this session's reports go (default: reports/)")
    group.addoption("--deploy-api-key", default=None, help="deploy with this API_KEY and send it from the live suites")
    group.addoption(
        "--contract-examples",
        type=int,
        default=None,
        help="schemathesis examples per operation (default: testing.contract_examples)",
    )
    group.addoption(
        "--load-duration",
        type=float,
        default=None,
        help="seconds of load in tests/load (default: testing.load.duration_s)",
    )
    group.addoption(
        "--load-workers",
        type=int,
        default=None,
        help="locust worker processes for the load and autoscale suites (default: testing.load.workers)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--azure-emulator") and config.getoption("numprocesses", None):
        raise pytest.UsageError("--azure-emulator runs without xdist (one emulator per session): drop -n")
    try:
        loaded = load_config(config.getoption("--config"))
        config.stash[PROJECT_CONFIG_KEY] = with_azure_target(loaded, config.getoption("--azure-target"))
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None


PROJECT_CONFIG_KEY = pytest.StashKey[ProjectConfig]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that touches the live deployment is a `deploy` test, so `-m deploy` selects them all.

    The ARM emulator's own tests never are, nor may they carry the marker: they reset the emulator after each test,
    which would take a prod rehearsal's deployment down with it.
    """
    for item in items:
        if item.get_closest_marker("emulator"):
            if item.get_closest_marker("deploy"):
                raise pytest.UsageError(f"{item.nodeid}: an `emulator` test cannot also be a `deploy` test")
            continue
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.deploy)


@pytest.fixture(scope="session")
def project_config(pytestconfig: pytest.Config) -> ProjectConfig:
    return pytestconfig.stash[PROJECT_CONFIG_KEY]


@pytest.fixture(scope="session")
def harness_options(pytestconfig: pytest.Config) -> HarnessOptions:
    return HarnessOptions(
        environment=pytestconfig.getoption("--env"),
        api_url=pytestconfig.getoption("--api-url"),
        keep=pytestconfig.getoption("--keep"),
        api_key=api_key_option(pytestconfig),
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if is_xdist_worker(config) or config.getoption("--api-url"):
        return
    finish_session(config, config.getoption("--keep"), config.stash[PROJECT_CONFIG_KEY])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    line = config.stash.get(SUMMARY_KEY, None)
    if line:
        terminalreporter.write_line(f"garch-mlops: {line}")
