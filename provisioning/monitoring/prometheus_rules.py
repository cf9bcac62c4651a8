"""The alert catalogue as Prometheus alerting rules, and the Prometheus and Alertmanager configurations around them.

Expressions are written the way Prometheus prints them back (its rules API returns the parsed expression), so
"the rules Prometheus loaded equal the catalogue" is a string comparison, not a judgement.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from provisioning.config import MonitoringSection, NotificationsSection
from provisioning.monitoring.catalogue import AlertRule, Channel, ServiceLimits
from service.traffic import SYNTHETIC, TRAFFIC_LABEL

SCRAPE_JOB = "garch-api"
JOB = f'job="{SCRAPE_JOB}"'
OPERATIONS_ROUTES = 'route!~"/health|/metrics|unmatched"'
"""Traffic that is not API use: probes, scrapes and paths no route matches (scanners). Ratios leave it out."""
REAL_TRAFFIC = f'{TRAFFIC_LABEL}!="{SYNTHETIC}"'
"""Requests a verification run marked as synthetic (service/traffic.py) are not use either: ratios and latency
leave them out, so verifying a quiet deployment cannot page anyone."""
RULES_FILE = "rules.yml"
TARGETS_FILE = "targets.json"
PROMQL_OPERATOR = {"GreaterThan": ">", "GreaterThanOrEqual": ">="}


@dataclass(frozen=True)
class Cadence:
    """How fast the stack runs the catalogue.

    In production a check (scrape) happens every `health_check_interval_s` and rules keep their catalogue windows.
    Tests compress the clock: checks every second and every catalogue duration scaled by the same factor, so a
    five-minute window keeps the same number of samples and "3 failed checks" is still three failed checks.
    """

    check_interval_s: float
    time_scale: float
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float

    @classmethod
    def production(cls, monitoring: MonitoringSection) -> "Cadence":
        return cls(monitoring.health_check_interval_s, 1.0, 30, 300, 4 * 3600)

    @classmethod
    def compressed(cls, monitoring: MonitoringSection, check_interval_s: float = 1.0) -> "Cadence":
        scale = check_interval_s / monitoring.health_check_interval_s
        return cls(check_interval_s, scale, 0, check_interval_s, 3600)

    def window_s(self, rule: AlertRule) -> float:
        """At least four checks, so rate() always has samples to work with."""
        return max(rule.window_s * self.time_scale, 4 * self.check_interval_s)

    def frequency_s(self, rule: AlertRule) -> float:
        """The health rule is evaluated at every check, so its `for:` counts failed checks exactly."""
        if rule.signal == "health":
            return self.check_interval_s
        return max(rule.frequency_s * self.time_scale, self.check_interval_s)

    def pending_s(self, rule: AlertRule) -> float:
        """`for:` of a rule: a health rule fires on its N-th consecutive failed check, the others when evaluated."""
        if rule.signal == "health":
            return (rule.threshold.value - 1) * self.check_interval_s
        return 0.0


def go_float(value: float) -> str:
    """A float as Go's fmt prints it (%v: shortest digits, exponent below 1e-4 and from 1e6), as PromQL shows it."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return {math.inf: "+Inf", -math.inf: "-Inf"}.get(value, "NaN")
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(str(d) for d in digits)
    point = len(mantissa) + exponent  # position of the decimal point within the digits
    magnitude = point - 1
    prefix = "-" if sign else ""
    if magnitude < -4 or magnitude >= 6:
        rest = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
        return f"{prefix}{mantissa[0]}{rest}e{'+' if magnitude >= 0 else '-'}{abs(magnitude):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{mantissa}"
    if point >= len(mantissa):
        return f"{prefix}{mantissa}{'0' * (point - len(mantissa))}"
    return f"{prefix}{mantissa[:point]}.{mantissa[point:]}"


def go_duration(seconds: float) -> str:
    """A duration as Prometheus prints it (model.Duration): 10s, 1m30s, 5m, 1h, 250ms."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    text = ""
    for unit, size, exact in (
        ("y", 365 * 86_400_000, True),
        ("w", 7 * 86_400_000, True),
        ("d", 86_400_000, False),
        ("h", 3_600_000, False),
        ("m", 60_000, False),
        ("s", 1000, False),
        ("ms", 1, False),
    ):
        if exact and ms % size:
            continue
        if ms >= size:
            text += f"{ms // size}{unit}"
            ms %= size
    return text


def signal_expression(rule: AlertRule, limits: ServiceLimits, window: str, *, with_synthetic: bool = False) -> str:
    """What a rule measures, in the threshold's unit, over `window` (a duration, or Grafana's $__rate_interval).

    `with_synthetic` counts synthetic traffic too: what the rule would have measured without the label, which shows
    that leaving it out is what keeps a verification run quiet.
    """
    real = "" if with_synthetic else f",{REAL_TRAFFIC}"  # last: Prometheus prints matchers sorted by label name
    requests = f"garch_http_requests_total{{{JOB},{OPERATIONS_ROUTES}"
    if rule.signal == "health":
        return f"up{{{JOB}}} == 0 or garch_models_loaded{{{JOB}}} < 1"
    if rule.signal in ("server_error_ratio", "client_error_ratio"):
        status = "5.." if rule.signal == "server_error_ratio" else "4.."
        failed = f'sum by (job) (rate({requests},status=~"{status}"{real}}}[{window}]))'
        total = f"sum by (job) (rate({requests}{real}}}[{window}]))"
        return f"100 * {failed} / {total}"
    if rule.signal == "latency_p95":
        buckets = f"garch_http_request_duration_seconds_bucket{{{JOB},{OPERATIONS_ROUTES}{real}}}"
        return f"histogram_quantile(0.95, sum by (job, route, le) (rate({buckets}[{window}]))) * 1000"
    if rule.signal == "cpu":
        used = f"sum by (job) (rate(process_cpu_seconds_total{{{JOB}}}[{window}]))"
        return f"100 * {used} / {go_float(limits.cpu_cores)}"
    used = f"sum by (job) (avg_over_time(process_resident_memory_bytes{{{JOB}}}[{window}]))"
    return f"100 * {used} / {go_float(limits.memory_bytes)}"


def rule_expression(rule: AlertRule, limits: ServiceLimits, cadence: Cadence) -> str:
    """The PromQL of one catalogue entry over the service's own metrics (service/metrics.py).

    The health rule is a condition, not a measure: the target does not answer (a failed check) or answers
    without its models loaded (what /health reports as 503); its threshold is counted by `for:`.
    """
    expression = signal_expression(rule, limits, go_duration(cadence.window_s(rule)))
    if rule.signal == "health":
        return expression
    return f"{expression} {PROMQL_OPERATOR[rule.operator]} {go_float(rule.threshold.value)}"


def rule_labels(rule: AlertRule) -> dict[str, str]:
    return {
        "severity": rule.severity_name,
        "azure_severity": str(rule.severity),
        "signal": rule.signal,
        "channels": channel_set(rule.channels),
    }


def rule_annotations(rule: AlertRule) -> dict[str, str]:
    return {
        "summary": rule.description,
        "threshold": str(rule.threshold),
        "measured": '{{ $value | printf "%.4g" }}',
    }


def channel_set(channels: tuple[Channel, ...]) -> str:
    return "+".join(sorted(channels))


def render_rule_groups(rules: tuple[AlertRule, ...], limits: ServiceLimits, cadence: Cadence) -> dict[str, Any]:
    """The rules file: one group per evaluation frequency, since a group has one interval."""
    groups: dict[float, list[dict[str, Any]]] = {}
    for rule in rules:
        groups.setdefault(cadence.frequency_s(rule), []).append(
            {
                "alert": rule.name,
                "expr": rule_expression(rule, limits, cadence),
                "for": go_duration(cadence.pending_s(rule)),
                "labels": rule_labels(rule),
                "annotations": rule_annotations(rule),
            }
        )
    return {
        "groups": [
            {"name": f"garch-api-every-{go_duration(interval)}", "interval": go_duration(interval), "rules": members}
            for interval, members in sorted(groups.items())
        ]
    }


def render_prometheus_config(cadence: Cadence, alertmanager: str) -> dict[str, Any]:
    """Scrapes the targets in targets.json (file_sd: deployments move between ports) and alerts `alertmanager`."""
    interval = go_duration(cadence.check_interval_s)
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": go_duration(min(cadence.check_interval_s, 10.0)),
            "evaluation_interval": interval,
        },
        "rule_files": [RULES_FILE],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "metrics_path": "/metrics",
                "file_sd_configs": [{"files": [TARGETS_FILE], "refresh_interval": interval}],
            }
        ],
    }


def render_targets(urls: dict[str, str]) -> list[dict[str, Any]]:
    """file_sd entries: one per deployment URL (`http://host:port`), labelled with its environment."""
    return [
        {"targets": [url.split("://", 1)[-1].rstrip("/")], "labels": {"environment": environment}}
        for environment, url in urls.items()
    ]


def render_alertmanager_config(
    rules: tuple[AlertRule, ...], notifications: NotificationsSection, cadence: Cadence, webhook_url: str | None
) -> dict[str, Any]:
    """One receiver per channel combination the catalogue uses, routed by the rules' `channels` label.

    Email needs an SMTP smarthost; without one the email channel has no integration here (Azure's action group
    delivers it in production), which keeps a local stack from retrying mail it cannot send.
    """
    url = webhook_url or notifications.webhook_url
    email = bool(notifications.smtp_smarthost and notifications.email)
    combinations = sorted({channel_set(rule.channels) for rule in rules})
    receivers = []
    for combination in combinations:
        receiver: dict[str, Any] = {"name": combination}
        if "webhook" in combination.split("+") and url:
            receiver["webhook_configs"] = [{"url": url, "send_resolved": True}]
        if "email" in combination.split("+") and email:
            receiver["email_configs"] = [
                {"to": ", ".join(notifications.email), "send_resolved": True, "require_tls": True}
            ]
        receivers.append(receiver)
    default = channel_set(tuple(sorted({c for rule in rules for c in rule.channels})))
    if default not in combinations:
        receivers.append({"name": default})
    config: dict[str, Any] = {
        "route": {
            "receiver": default,
            "group_by": ["alertname"],
            "group_wait": go_duration(cadence.group_wait_s),
            "group_interval": go_duration(cadence.group_interval_s),
            "repeat_interval": go_duration(cadence.repeat_interval_s),
            "routes": [
                {"matchers": [f'channels="{combination}"'], "receiver": combination} for combination in combinations
            ],
        },
        "receivers": receivers,
    }
    if email:
        config["global"] = {"smtp_smarthost": notifications.smtp_smarthost, "smtp_from": notifications.smtp_from}
    return config
