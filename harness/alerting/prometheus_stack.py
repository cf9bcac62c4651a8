"""A real Prometheus and Alertmanager (Debian's packages) on loopback ports, configured from the alert catalogue.

Both start in well under a second. Targets come from a file_sd file, so the stack can follow a deployment that
moves; leaving the context manager stops both processes and removes their data, also when starting failed.
"""

import contextlib
import json
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml
from typing_extensions import Self

from provisioning.config import NotificationsSection
from provisioning.errors import DeploymentError, EnvironmentUnavailable
from provisioning.monitoring.catalogue import AlertRule, ServiceLimits
from provisioning.monitoring.prometheus_rules import (
    RULES_FILE,
    TARGETS_FILE,
    Cadence,
    render_alertmanager_config,
    render_prometheus_config,
    render_rule_groups,
    render_targets,
)
from provisioning.processes import ProcessGroup, free_loopback_port
from provisioning.waiting import wait_until

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install -y --no-install-recommends prometheus prometheus-alertmanager"
STOP_GRACE_S = 5.0
START_ATTEMPTS = 3


class MonitoringStackError(DeploymentError):
    """Prometheus or Alertmanager could not be started, reached or asked."""


def require_binary(name: str) -> str:
    """The path of a Prometheus tool, or EnvironmentUnavailable naming the package to install."""
    path = shutil.which(name)
    if path is None:
        raise EnvironmentUnavailable(f"{name} is not on PATH; install it with: {INSTALL_HINT}")
    return path


class PrometheusStack:
    """Prometheus evaluating the catalogue's rules and notifying an Alertmanager that posts to `webhook_url`."""

    def __init__(
        self,
        *,
        rules: tuple[AlertRule, ...],
        limits: ServiceLimits,
        notifications: NotificationsSection,
        cadence: Cadence,
        webhook_url: str,
        workdir: Path | None = None,
        startup_timeout_s: float = 15.0,
    ) -> None:
        self.rules, self.limits, self.cadence = rules, limits, cadence
        self._notifications = notifications
        self._webhook_url = webhook_url
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="garch-prometheus-"))
        self._startup_timeout_s = startup_timeout_s
        self._processes: dict[str, ProcessGroup] = {}
        self.prometheus_port = free_loopback_port()
        self.alertmanager_port = free_loopback_port()

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.alertmanager_port}"

    def rule_groups(self) -> dict[str, Any]:
        """What the rules file holds: the catalogue rendered for this stack's cadence and the service's limits."""
        return render_rule_groups(self.rules, self.limits, self.cadence)

    def alertmanager_config(self) -> dict[str, Any]:
        return render_alertmanager_config(self.rules, self._notifications, self.cadence, self._webhook_url)

    def write_configuration(self) -> None:
        """Every file both processes read; also what `promtool`/`amtool` check."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / RULES_FILE).write_text(yaml.safe_dump(self.rule_groups(), sort_keys=False))
        prometheus = render_prometheus_config(self.cadence, f"127.0.0.1:{self.alertmanager_port}")
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(prometheus, sort_keys=False))
        (self.workdir / "alertmanager.yml").write_text(yaml.safe_dump(self.alertmanager_config(), sort_keys=False))
        if not (self.workdir / TARGETS_FILE).exists():
            self.set_targets({})

    def set_targets(self, urls: Mapping[str, str]) -> None:
        """Scrape these deployments (environment -> base URL) from now on; written atomically for file_sd."""
        temporary = self.workdir / f".{TARGETS_FILE}.tmp"
        temporary.write_text(json.dumps(render_targets(dict(urls))))
        temporary.replace(self.workdir / TARGETS_FILE)

    def start(self) -> None:
        """Start both; if one dies before it is ready (a port taken since we chose it), retry on new ports."""
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_once()
                return
            except DeploymentError as error:
                self._stop_processes()
                if attempt == START_ATTEMPTS:
                    raise
                log.warning(
                    "monitoring stack start %d/%d failed, retrying on new ports: %s", attempt, START_ATTEMPTS, error
                )
                self.prometheus_port, self.alertmanager_port = free_loopback_port(), free_loopback_port()

    def _start_once(self) -> None:
        self.write_configuration()
        self._spawn(
            "alertmanager",
            [
                require_binary("prometheus-alertmanager"),
                f"--config.file={self.workdir / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{self.alertmanager_port}",
                "--cluster.listen-address=",
            ],
            f"{self.alertmanager_url}/-/ready",
        )
        self._spawn(
            "prometheus",
            [
                require_binary("prometheus"),
                f"--config.file={self.workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.workdir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            ],
            f"{self.prometheus_url}/-/ready",
        )
        self._check_identity()

    def _check_identity(self) -> None:
        """The servers on our ports are the ones we started, not another session's that holds the port."""
        config_file = self.api("/api/v1/status/flags").get("config.file")
        if config_file != str(self.workdir / "prometheus.yml"):
            raise MonitoringStackError(f"{self.prometheus_url} runs {config_file}, not this stack's configuration")
        if self._webhook_url not in json.dumps(self.loaded_alertmanager_config()):
            raise MonitoringStackError(f"{self.alertmanager_url} does not post to {self._webhook_url}: another stack")

    def _spawn(self, name: str, command: list[str], ready_url: str) -> None:
        process = ProcessGroup(command, name=name, log_path=self.workdir / f"{name}.log", cwd=self.workdir)
        self._processes[name] = process.start()
        process.wait_for_http(ready_url, timeout_s=self._startup_timeout_s, interval_s=0.05)

    def stop(self) -> None:
        """Stop both processes (SIGTERM, then SIGKILL after a grace period) and remove the data we created."""
        self._stop_processes()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_processes(self) -> None:
        for process in reversed(list(self._processes.values())):
            process.stop(STOP_GRACE_S)
        self._processes.clear()

    def log_tail(self, name: str, lines: int = 20) -> str:
        with contextlib.suppress(FileNotFoundError):
            return "\n".join((self.workdir / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def api(self, path: str, **params: str) -> Any:
        """`data` of a Prometheus HTTP API answer; MonitoringStackError if Prometheus refuses the request."""
        try:
            response = httpx.get(f"{self.prometheus_url}{path}", params=params, timeout=5)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise MonitoringStackError(f"Prometheus at {self.prometheus_url}{path}: {error}") from error
        if body.get("status") != "success":
            raise MonitoringStackError(f"Prometheus {path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def loaded_rules(self) -> list[dict[str, Any]]:
        """The rule groups Prometheus evaluates (its rules API), not what we wrote."""
        return list(self.api("/api/v1/rules", type="alert")["groups"])

    def alert_states(self) -> dict[str, str]:
        """Each alert rule's state now: inactive, pending or firing."""
        return {rule["name"]: rule["state"] for group in self.loaded_rules() for rule in group["rules"]}

    def query(self, expression: str) -> list[dict[str, Any]]:
        return list(self.api("/api/v1/query", query=expression)["result"])

    def query_range(self, expression: str, *, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
        """Each series of `expression` evaluated every `step_s` from `start` to `end` (seconds since the epoch)."""
        result = self.api(
            "/api/v1/query_range", query=expression, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step_s:g}s"
        )["result"]
        return list(result)

    def loaded_alertmanager_config(self) -> dict[str, Any]:
        """The configuration Alertmanager runs, from its status API."""
        try:
            status = httpx.get(f"{self.alertmanager_url}/api/v2/status", timeout=5).json()
        except (httpx.HTTPError, ValueError) as error:
            raise MonitoringStackError(f"Alertmanager at {self.alertmanager_url}: {error}") from error
        return dict(yaml.safe_load(status["config"]["original"]))

    def wait_until_scraped(self, url: str, timeout_s: float = 15.0, *, after: float = 0.0) -> float:
        """Poll until the target at `url` has been scraped successfully (at a time past `after`, epoch seconds)
        and every rule evaluated since.

        "Since" is since the first successful scrape seen: compared with the latest one instead, rule groups
        evaluated every two scrapes at different phases would never all be newer than it.
        """
        instance = url.split("://", 1)[-1].rstrip("/")
        started = time.monotonic()
        seen = {"last": "no scrape yet"}
        first_up_at: list[float] = []

        def scraped_and_evaluated() -> bool:
            targets = self.api("/api/v1/targets", state="active")["activeTargets"]
            ours = [t for t in targets if t["labels"].get("instance") == instance]
            if not ours:
                return False
            seen["last"] = f"health {ours[0]['health']} {ours[0].get('lastError', '')}".strip()
            scraped_at = rfc3339_seconds(ours[0]["lastScrape"])
            if ours[0]["health"] == "up" and not first_up_at and scraped_at > after:
                first_up_at.append(scraped_at)
            evaluated = [rfc3339_seconds(r["lastEvaluation"]) for g in self.loaded_rules() for r in g["rules"]]
            return bool(first_up_at) and all(at > first_up_at[0] for at in evaluated)

        wait_until(
            scraped_and_evaluated,
            what="scrape",
            where=f"{self.prometheus_url} -> {url}/metrics",
            timeout_s=timeout_s,
            interval_s=self.cadence.check_interval_s / 4,
            last_seen=lambda: f"{seen['last']}; {self.log_tail('prometheus', 5)}",
        )
        return time.monotonic() - started


def rfc3339_seconds(stamp: str) -> float:
    """Seconds since the epoch of a Prometheus timestamp (nanosecond fractions, 'Z' or an offset)."""
    date, _, rest = stamp.partition(".")
    if not rest:
        date, zone = stamp[:19], stamp[19:]
        fraction = ""
    else:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
    zone = "+00:00" if zone in ("Z", "") else zone
    parsed = datetime.fromisoformat(f"{date[:19]}{zone}")
    return parsed.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def run_tool(*command: str, cwd: Path) -> str:
    """Run promtool or amtool in `cwd`; its stdout, or MonitoringStackError carrying everything it printed."""
    result = subprocess.run(
        [require_binary(command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise MonitoringStackError(
            f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout
