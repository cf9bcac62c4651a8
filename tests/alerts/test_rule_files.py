"""The generated Prometheus and Alertmanager files, checked by the tools that run them.

`promtool test rules` evaluates every catalogue rule, at the production cadence, over series shaped like the
service's metrics: the bad case fires with the catalogue's labels, the good case stays quiet, and traffic that is
not API use (health probes, scrapes, unmatched paths) does not move a ratio. This is how the alerts that a local
fault cannot safely cause (5xx, memory) are still verified by evaluation rather than by reading them.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.alerting.prometheus_stack import run_tool
from provisioning.config import ProjectConfig
from provisioning.monitoring.catalogue import AlertRule, ServiceLimits
from provisioning.monitoring.prometheus_rules import (
    RULES_FILE,
    TARGETS_FILE,
    Cadence,
    go_duration,
    render_alertmanager_config,
    render_prometheus_config,
    render_rule_groups,
    render_targets,
    rule_annotations,
    rule_labels,
)
from service.traffic import SYNTHETIC

pytestmark = pytest.mark.unit

JOB = 'job="garch-api",instance="api:8001"'
SAMPLES = 40
"""Input series length in checks: 20 minutes at the production 30 s interval."""


def limits_of(config: ProjectConfig) -> ServiceLimits:
    return ServiceLimits.from_sizes(config.deployment.cpu, config.deployment.memory_gb)


def write_stack_files(directory: Path, config: ProjectConfig, cadence: Cadence) -> None:
    monitoring = config.monitoring
    files = {
        RULES_FILE: render_rule_groups(monitoring.alerts, limits_of(config), cadence),
        "prometheus.yml": render_prometheus_config(cadence, "127.0.0.1:9093"),
        "alertmanager.yml": render_alertmanager_config(
            monitoring.alerts, monitoring.notifications, cadence, "http://127.0.0.1:9/alerts"
        ),
    }
    for name, content in files.items():
        (directory / name).write_text(yaml.safe_dump(content, sort_keys=False))
    (directory / TARGETS_FILE).write_text(json.dumps(render_targets({"process": "http://127.0.0.1:8001"})))


@pytest.mark.parametrize("cadence_name", ["production", "compressed"])
def test_promtool_and_amtool_accept_the_generated_files(
    tmp_path: Path, project_config: ProjectConfig, cadence_name: str
) -> None:
    cadence = getattr(Cadence, cadence_name)(project_config.monitoring)
    write_stack_files(tmp_path, project_config, cadence)
    rules = run_tool("promtool", "check", "rules", RULES_FILE, cwd=tmp_path)
    assert f"SUCCESS: {len(project_config.monitoring.alerts)} rules found" in rules
    run_tool("promtool", "check", "config", "prometheus.yml", cwd=tmp_path)
    run_tool("amtool", "check-config", "alertmanager.yml", cwd=tmp_path)


def test_email_reaches_alertmanager_only_with_a_smarthost(project_config: ProjectConfig, tmp_path: Path) -> None:
    monitoring = project_config.monitoring
    cadence = Cadence.production(monitoring)
    with_smtp = monitoring.notifications.model_copy(
        update={"email": ("ops@example.com",), "smtp_smarthost": "smtp.example.com:587", "smtp_from": "a@example.com"}
    )
    config = render_alertmanager_config(monitoring.alerts, with_smtp, cadence, "http://127.0.0.1:9/alerts")
    receiver = config["receivers"][0]
    assert receiver["email_configs"][0]["to"] == "ops@example.com"
    assert receiver["webhook_configs"][0]["url"] == "http://127.0.0.1:9/alerts"
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    run_tool("amtool", "check-config", "alertmanager.yml", cwd=tmp_path)
    without = render_alertmanager_config(monitoring.alerts, monitoring.notifications, cadence, "http://x:9/a")
    assert "email_configs" not in without["receivers"][0] and "global" not in without


def counter(labels: str, per_check: float) -> dict[str, str]:
    return {"series": f"{{{labels}}}", "values": f"0+{per_check:g}x{SAMPLES}"}


def requests(route: str, status: int, per_check: float, traffic: str = "") -> dict[str, str]:
    labels = f'__name__="garch_http_requests_total",{JOB},route="{route}",method="GET",status="{status}"'
    return counter(labels + (f',traffic="{traffic}"' if traffic else ""), per_check)


def histogram(route: str, per_check_in_bucket: dict[str, float], traffic: str = "") -> list[dict[str, str]]:
    """Cumulative buckets of garch_http_request_duration_seconds for `route`, from counts per bucket and check."""
    series, cumulative = [], 0.0
    for le, count in per_check_in_bucket.items():
        cumulative += count
        labels = f'__name__="garch_http_request_duration_seconds_bucket",{JOB},route="{route}",le="{le}"'
        series.append(counter(labels + (f',traffic="{traffic}"' if traffic else ""), cumulative))
    return series


@dataclass(frozen=True)
class Scenario:
    """Input series sets where a rule must fire, sets where it must stay quiet, and how it fires."""

    firing: list[list[dict[str, str]]]
    quiet: list[list[dict[str, str]]]
    labels: dict[str, str]
    measured: str
    """What the `measured` annotation ({{ $value | printf "%.4g" }}) shows when it fires."""


def scenario(rule: AlertRule, limits: ServiceLimits, interval_s: float) -> Scenario:
    job = {"job": "garch-api"}
    if rule.signal == "health":
        failed, half = int(rule.threshold.value), SAMPLES // 2
        down = [{"series": f"up{{{JOB}}}", "values": f"1x{half} 0x{half}"}]
        loading = [
            {"series": f"up{{{JOB}}}", "values": f"1x{SAMPLES}"},
            {"series": f"garch_models_loaded{{{JOB}}}", "values": f"3x{half} 0x{half}"},
        ]
        one_short = " ".join(["1", *["0"] * (failed - 1)] * (SAMPLES // failed + 2))  # never N failures in a row
        flapping = [{"series": f"up{{{JOB}}}", "values": one_short}]
        return Scenario([down, loading], [flapping], {**job, "instance": "api:8001"}, "0")
    if rule.signal in ("server_error_ratio", "client_error_ratio"):
        status = 500 if rule.signal == "server_error_ratio" else 400
        above, below = rule.threshold.value + 5, rule.threshold.value - 2
        noise = [requests("/health", 200, 900), requests("/metrics", 200, 900), requests("unmatched", 404, 900)]
        bad = [requests("/predict", status, above), requests("/predict", 200, 100 - above), *noise]
        good = [requests("/predict", status, below), requests("/predict", 200, 100 - below), *noise]
        # A verification run: mostly failing requests, all marked synthetic, alone or beside healthy real use.
        verification = [requests("/predict", status, 900, SYNTHETIC), requests("/predict", 200, 100, SYNTHETIC)]
        return Scenario([bad], [good, verification, [*good, *verification]], job, f"{above:.4g}")
    if rule.signal == "latency_p95":
        slow = histogram("/predict/custom", {"1": 0, "2.5": 0, "5": 10, "+Inf": 0})
        fast = histogram("/predict", {"1": 10, "2.5": 0, "5": 0, "+Inf": 0})
        slow_probes = histogram("/health", {"1": 0, "2.5": 0, "5": 10, "+Inf": 0})
        slow_verification = histogram("/predict/custom", {"1": 0, "2.5": 0, "5": 10, "+Inf": 0}, SYNTHETIC)
        # Everything in the (2.5 s, 5 s] bucket: Prometheus interpolates 2.5 + 0.95 * 2.5 s.
        return Scenario(
            [[*slow, *fast]],
            [[*fast, *slow_probes], [*fast, *slow_verification]],
            {**job, "route": "/predict/custom"},
            "4875",
        )
    if rule.signal == "cpu":

        def cpu(percent: float) -> list[dict[str, str]]:
            per_check = percent / 100 * limits.cpu_cores * interval_s
            return [counter(f'__name__="process_cpu_seconds_total",{JOB}', per_check)]

        above = rule.threshold.value + 10
        return Scenario([cpu(above)], [cpu(rule.threshold.value - 30)], job, f"{above:.4g}")

    def memory(percent: float) -> list[dict[str, str]]:
        resident = int(percent / 100 * limits.memory_bytes)
        return [{"series": f"process_resident_memory_bytes{{{JOB}}}", "values": f"{resident}x{SAMPLES}"}]

    above = rule.threshold.value + 5
    return Scenario([memory(above)], [memory(rule.threshold.value - 40)], job, f"{above:.4g}")


def test_every_rule_fires_on_its_fault_and_not_otherwise(project_config: ProjectConfig, tmp_path: Path) -> None:
    monitoring, limits = project_config.monitoring, limits_of(project_config)
    cadence = Cadence.production(monitoring)
    (tmp_path / RULES_FILE).write_text(yaml.safe_dump(render_rule_groups(monitoring.alerts, limits, cadence)))
    end = go_duration(SAMPLES * cadence.check_interval_s)
    tests = []
    interval = go_duration(cadence.check_interval_s)
    for rule in monitoring.alerts:
        case = scenario(rule, limits, cadence.check_interval_s)
        expected = {
            "exp_labels": {**rule_labels(rule), **case.labels},
            "exp_annotations": {**rule_annotations(rule), "measured": case.measured},
        }
        for series in case.firing:
            checks = [{"eval_time": end, "alertname": rule.name, "exp_alerts": [expected]}]
            if rule.signal == "health":  # failures start half-way: quiet one check short, firing at the N-th
                first_failure = SAMPLES // 2 + 1
                for failures, alerts in ((rule.threshold.value - 1, []), (rule.threshold.value, [expected])):
                    at = go_duration((first_failure + failures - 1) * cadence.check_interval_s)
                    checks.append({"eval_time": at, "alertname": rule.name, "exp_alerts": alerts})
            tests.append({"interval": interval, "input_series": series, "alert_rule_test": checks})
        for series in case.quiet:
            quiet_check = {"eval_time": end, "alertname": rule.name, "exp_alerts": []}
            tests.append({"interval": interval, "input_series": series, "alert_rule_test": [quiet_check]})
    suite = {"rule_files": [RULES_FILE], "evaluation_interval": interval, "tests": tests}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(suite))
    output = run_tool("promtool", "test", "rules", "tests.yml", cwd=tmp_path)
    assert "SUCCESS" in output
