"""Verifying alerts by their effects: what Prometheus loaded, and notifications that reach the webhook in time.

Each failure is an AssertionError subclass that carries what was measured, so a red test says which rule, how
long it waited, and what Prometheus thought of the rule at that moment.
"""

import operator
import re
import time
from collections.abc import Callable
from typing import Any

from harness.alerting.prometheus_stack import PrometheusStack, rfc3339_seconds
from harness.alerting.webhook_receiver import WebhookReceiver
from provisioning.errors import DeploymentTimeout
from provisioning.monitoring.catalogue import AlertRule
from provisioning.monitoring.prometheus_rules import Cadence, go_duration, signal_expression
from provisioning.waiting import wait_until


class AlertVerificationFailure(AssertionError):
    """An alert did not behave as the catalogue says it must."""


class AlertNotFired(AlertVerificationFailure):
    def __init__(self, rule: str, waited_s: float, state: str, notifications: int) -> None:
        self.rule, self.waited_s, self.state, self.notifications = rule, waited_s, state, notifications
        super().__init__(
            f"{rule} did not reach the webhook as firing within {waited_s:.1f}s "
            f"(Prometheus state: {state}; {notifications} notification(s) received in all)"
        )


class AlertNotResolved(AlertVerificationFailure):
    def __init__(self, rule: str, waited_s: float, state: str, notifications: int) -> None:
        self.rule, self.waited_s, self.state, self.notifications = rule, waited_s, state, notifications
        super().__init__(
            f"{rule} did not reach the webhook as resolved within {waited_s:.1f}s "
            f"(Prometheus state: {state}; {notifications} notification(s) received in all)"
        )


class AlertNotQuiet(AlertVerificationFailure):
    """The alert was already pending or firing before the fault, so a notification would prove nothing."""

    def __init__(self, rule: str, waited_s: float, state: str) -> None:
        self.rule, self.waited_s, self.state = rule, waited_s, state
        super().__init__(f"{rule} still {state} after {waited_s:.1f}s; it must be inactive before the fault")


class RulesDiffer(AlertVerificationFailure):
    """The rules Prometheus evaluates are not the catalogue's: names missing or extra, or fields that differ."""

    def __init__(self, missing: list[str], unexpected: list[str], changed: dict[str, dict[str, Any]]) -> None:
        self.missing, self.unexpected, self.changed = missing, unexpected, changed
        lines = [f"missing: {missing}"] if missing else []
        lines += [f"not in the catalogue: {unexpected}"] if unexpected else []
        lines += [f"{name}: {fields}" for name, fields in changed.items()]
        super().__init__("loaded rules differ from the catalogue:\n" + "\n".join(lines))


class AlertFiredTooSoon(AlertVerificationFailure):
    """The alert fired before the rule could have seen the fault for as long as it demands (its `for:`)."""

    def __init__(self, rule: str, fired_after_s: float, earliest_s: float) -> None:
        self.rule, self.fired_after_s, self.earliest_s = rule, fired_after_s, earliest_s
        super().__init__(
            f"{rule} fired {fired_after_s:.1f}s after the fault; it may fire only after {earliest_s:.1f}s of it"
        )


class AlertsDuringVerification(AlertVerificationFailure):
    """A verify run (synthetic traffic only) made alerts pending or firing, or Alertmanager notify someone."""

    def __init__(self, alerts: list[str], notifications: int) -> None:
        self.alerts, self.notifications = alerts, notifications
        super().__init__(
            f"a verify run must alert no one; it left alerts {', '.join(alerts) or '(none)'} and "
            f"{notifications} notification(s)"
        )


class MeasureNotOverThreshold(AlertVerificationFailure):
    """While the alert fired, the rule's own measure, as Prometheus computes it, never crossed the threshold."""

    def __init__(self, rule: str, labels: dict[str, str], measured: list[float], threshold: str) -> None:
        self.rule, self.labels, self.measured, self.threshold = rule, labels, measured, threshold
        values = ", ".join(f"{value:.4g}" for value in measured) or "no samples"
        super().__init__(f"{rule} {labels}: measured {values} while firing; the threshold is {threshold}")


DURATION_UNITS_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(duration: str) -> float:
    """Seconds in a Prometheus duration such as 1m30s or 250ms."""
    return sum(int(number) * DURATION_UNITS_S[unit] for number, unit in re.findall(r"(\d+)(ms|[smhdwy])", duration))


def expected_rules(rule_groups: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A rendered rules file in the shape of Prometheus' rules API, by alert name."""
    return {
        rule["alert"]: {
            "group": group["name"],
            "interval_s": duration_seconds(group["interval"]),
            "query": rule["expr"],
            "duration_s": duration_seconds(rule["for"]),
            "labels": rule["labels"],
            "annotations": rule["annotations"],
        }
        for group in rule_groups["groups"]
        for rule in group["rules"]
    }


def loaded_rules(api_groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Prometheus' rules API answer, by alert name."""
    return {
        rule["name"]: {
            "group": group["name"],
            "interval_s": float(group["interval"]),
            "query": rule["query"],
            "duration_s": float(rule["duration"]),
            "labels": rule["labels"],
            "annotations": rule["annotations"],
        }
        for group in api_groups
        for rule in group["rules"]
    }


def assert_rules_loaded(stack: PrometheusStack) -> dict[str, dict[str, Any]]:
    """The rules Prometheus evaluates equal the catalogue's rendering, field by field; returns them."""
    expected, loaded = expected_rules(stack.rule_groups()), loaded_rules(stack.loaded_rules())
    changed = {
        name: {
            field: {"catalogue": value, "loaded": loaded[name][field]}
            for field, value in fields.items()
            if loaded[name][field] != value
        }
        for name, fields in expected.items()
        if name in loaded and loaded[name] != fields
    }
    missing, unexpected = sorted(expected.keys() - loaded.keys()), sorted(loaded.keys() - expected.keys())
    if missing or unexpected or changed:
        raise RulesDiffer(missing, unexpected, changed)
    return loaded


def wait_until_quiet(stack: PrometheusStack, rule: str, timeout_s: float) -> float:
    """Poll until `rule` is inactive (an earlier fault's alert has cleared); returns the seconds it took."""
    started = time.monotonic()
    try:
        wait_until(
            lambda: stack.alert_states().get(rule) == "inactive",
            what=f"{rule} inactive",
            where=stack.prometheus_url,
            timeout_s=timeout_s,
            interval_s=stack.cadence.check_interval_s / 4,
        )
    except DeploymentTimeout:
        raise AlertNotQuiet(rule, time.monotonic() - started, stack.alert_states().get(rule, "not loaded")) from None
    return time.monotonic() - started


def _nothing() -> None:
    pass


def wait_for_notification(
    receiver: WebhookReceiver,
    stack: PrometheusStack,
    *,
    rule: str,
    status: str,
    since: float,
    timeout_s: float,
    while_waiting: Callable[[], None] = _nothing,
) -> float:
    """Seconds from `since` (monotonic) until `rule` reached the webhook in `status` (firing or resolved).

    `while_waiting` runs between polls: a test that drives a fault with traffic keeps driving it while it waits.
    """

    def arrived() -> Any:
        notification = receiver.first(rule, status, after=since)
        if notification is None:
            while_waiting()
        return notification

    try:
        notification = wait_until(
            arrived,
            what=f"{rule} {status} at the webhook",
            where=stack.alertmanager_url,
            timeout_s=max(0.0, timeout_s - (time.monotonic() - since)),
            interval_s=stack.cadence.check_interval_s / 4,
        )
    except DeploymentTimeout:
        failure = AlertNotFired if status == "firing" else AlertNotResolved
        waited, state = time.monotonic() - since, stack.alert_states().get(rule, "not loaded")
        raise failure(rule, waited, state, len(receiver.notifications())) from None
    return float(notification.received_at - since)


class AlertmanagerConfigDiffers(AlertVerificationFailure):
    """Alertmanager runs a configuration without something we rendered (it fills in defaults, so extra is fine)."""

    def __init__(self, differences: list[str]) -> None:
        self.differences = differences
        super().__init__(
            "Alertmanager's loaded configuration differs from the rendered one:\n" + "\n".join(differences)
        )


def missing_from(rendered: Any, loaded: Any, path: str = "") -> list[str]:
    """Where `loaded` lacks or changes a value of `rendered` (dict keys are a subset; lists match item by item)."""
    if isinstance(rendered, dict) and isinstance(loaded, dict):
        return [
            difference
            for key, value in rendered.items()
            for difference in (
                missing_from(value, loaded[key], f"{path}.{key}") if key in loaded else [f"{path}.{key}: missing"]
            )
        ]
    if isinstance(rendered, list) and isinstance(loaded, list) and len(rendered) == len(loaded):
        return [
            d
            for i, (r, lo) in enumerate(zip(rendered, loaded, strict=True))
            for d in missing_from(r, lo, f"{path}[{i}]")
        ]
    return [] if rendered == loaded else [f"{path}: rendered {rendered!r}, loaded {loaded!r}"]


def assert_alertmanager_loaded(stack: PrometheusStack) -> None:
    """Alertmanager routes and delivers exactly as rendered from the catalogue."""
    differences = missing_from(stack.alertmanager_config(), stack.loaded_alertmanager_config())
    if differences:
        raise AlertmanagerConfigDiffers(differences)


COMPARISON = {"GreaterThan": operator.gt, "GreaterThanOrEqual": operator.ge}


def notification_bound_s(cadence: Cadence, rule: AlertRule, slack_s: float) -> float:
    """Longest a notification may take once a fault (or its fix) holds: a whole window of it, the rule's `for:`,
    one evaluation interval, one scrape, Alertmanager's group interval; plus `slack_s` for a busy machine."""
    return (
        cadence.window_s(rule)
        + cadence.pending_s(rule)
        + cadence.frequency_s(rule)
        + cadence.check_interval_s
        + cadence.group_interval_s
        + slack_s
    )


def measured_while_firing(stack: PrometheusStack, rule: AlertRule, alert: dict[str, Any], until: float) -> list[float]:
    """The rule's measure for the alert's series (its expression without the comparison, over the rule's window), as
    Prometheus evaluates it at each of the rule's evaluations from the alert's start until `until` (epoch seconds)."""
    expression = signal_expression(rule, stack.limits, go_duration(stack.cadence.window_s(rule)))
    started = rfc3339_seconds(alert["startsAt"])
    step = stack.cadence.frequency_s(rule)
    series = stack.query_range(expression, start=started, end=max(until, started + step), step_s=step)
    ours = [s for s in series if all(alert["labels"].get(key) == value for key, value in s["metric"].items())]
    return [float(value) for s in ours for _, value in s["values"]]


def assert_measured_over_threshold(
    stack: PrometheusStack, rule: AlertRule, alert: dict[str, Any], until: float
) -> float:
    """The highest measure of the rule while its alert fired; MeasureNotOverThreshold unless it crossed the threshold.

    The highest, not the first: Prometheus may ingest a scrape that began before an evaluation after it, so a value
    read back at the very evaluation that fired can differ from what the rule saw.
    """
    if rule.signal == "health":
        raise ValueError(f"{rule.name} is a condition counted by `for:`, not a measure with a threshold")
    measured = measured_while_firing(stack, rule, alert, until)
    crossed = [value for value in measured if COMPARISON[rule.operator](value, rule.threshold.value)]
    if not crossed:
        labels = {key: alert["labels"][key] for key in ("job", "route") if key in alert["labels"]}
        raise MeasureNotOverThreshold(rule.name, labels, measured, str(rule.threshold))
    return max(crossed)
