"""The alerting path around the live deployment: Prometheus -> Alertmanager -> a webhook this process runs.

The stack runs the catalogue on a compressed clock (a check every second instead of every
`monitoring.health_check_interval_s`, every window scaled alike), so faults fire and clear in seconds. It is one
per test process; tests that cause faults reach the deployment through `deployment_control` (exclusive).
Measured times to fire and resolve are merged into reports/alerts.json, by environment and alert.
"""

import fcntl
import json
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness.alerting.prometheus_stack import INSTALL_HINT, PrometheusStack, run_tool
from harness.alerting.webhook_receiver import WebhookReceiver
from harness.pytest_plugin.deployment import HarnessOptions
from harness.pytest_plugin.required_tools import RequiredTool, module_uses, requests_fixture, require
from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment
from provisioning.monitoring.catalogue import ServiceLimits
from provisioning.monitoring.prometheus_rules import Cadence

pytest_plugins = ["harness.pytest_plugin.required_tools"]

CHECK_INTERVAL_S = 1.0
REPORT = Path("reports") / "alerts.json"
PROMETHEUS_TOOLS = ("prometheus", "prometheus-alertmanager", "promtool", "amtool")


def pytest_configure(config: pytest.Config) -> None:
    """Tests with the alerting stack, and tests that run promtool/amtool on rendered files, need Debian's packages."""
    require(
        config,
        RequiredTool(
            name="Prometheus and Alertmanager (" + ", ".join(PROMETHEUS_TOOLS) + ")",
            is_installed=lambda: all(shutil.which(tool) for tool in PROMETHEUS_TOOLS),
            install=f"bash scripts/install_system_packages.sh (as root), or {INSTALL_HINT}",
            needed_by=lambda item: requests_fixture(item, "alerting_stack") or module_uses(item, run_tool),
        ),
    )


@dataclass(frozen=True)
class AlertTiming:
    """One fault and its alert: seconds from the fault to the firing notification, and from the fix to resolved.

    `fix_took_s` is how long the fix itself took (a restart boots the service), included in `resolved_after_s`.
    """

    alert: str
    fault: str
    fired_after_s: float
    resolved_after_s: float
    bound_s: float
    fix_took_s: float = 0.0
    check_interval_s: float = CHECK_INTERVAL_S
    measured_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


class AlertReport:
    """Collects timings during the session and merges them into a JSON file shared by runs and xdist workers."""

    def __init__(self, path: Path, environment: str) -> None:
        self.path, self.environment = path, environment
        self.timings: list[AlertTiming] = []

    def record(self, timing: AlertTiming) -> None:
        self.timings.append(timing)

    def write(self) -> None:
        if not self.timings:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            report = json.loads(self.path.read_text()) if self.path.exists() else {}
            ours = report.setdefault(self.environment, {})
            for timing in self.timings:
                ours[timing.alert] = asdict(timing)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
            temporary.replace(self.path)


@pytest.fixture(scope="session")
def alert_receiver() -> Iterator[WebhookReceiver]:
    """The webhook Alertmanager notifies: records every post with its arrival time."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def alerting_stack(project_config: ProjectConfig, alert_receiver: WebhookReceiver) -> Iterator[PrometheusStack]:
    """Prometheus and Alertmanager on loopback, configured from the catalogue on the compressed clock."""
    monitoring = project_config.monitoring
    stack = PrometheusStack(
        rules=monitoring.alerts,
        limits=ServiceLimits.from_sizes(project_config.deployment.cpu, project_config.deployment.memory_gb),
        notifications=monitoring.notifications,
        cadence=Cadence.compressed(monitoring, CHECK_INTERVAL_S),
        webhook_url=alert_receiver.url,
    )
    with stack:
        yield stack


@pytest.fixture
def scraped_deployment(
    live_url: str, deployment: Deployment, alerting_stack: PrometheusStack
) -> Iterator[PrometheusStack]:
    """The stack scraping the session's deployment (held with live_url's shared lock), every rule evaluated since."""
    alerting_stack.set_targets({deployment.environment: live_url})
    alerting_stack.wait_until_scraped(live_url)
    yield alerting_stack
    alerting_stack.set_targets({})


@pytest.fixture
def monitored_deployment(
    deployment_control: Deployment, alerting_stack: PrometheusStack
) -> Iterator[tuple[Deployment, PrometheusStack]]:
    """The deployment under exclusive control, scraped by the stack: for tests that cause faults."""
    alerting_stack.set_targets({deployment_control.environment: deployment_control.url})
    alerting_stack.wait_until_scraped(deployment_control.url)
    yield deployment_control, alerting_stack
    alerting_stack.set_targets({})


@pytest.fixture(scope="session")
def alert_report(pytestconfig: pytest.Config, harness_options: HarnessOptions) -> Iterator[AlertReport]:
    """Where alert tests record their timings; written to reports/alerts.json when the session ends."""
    environment = "external" if harness_options.api_url else harness_options.environment
    report = AlertReport(pytestconfig.rootpath / REPORT, environment)
    yield report
    report.write()
