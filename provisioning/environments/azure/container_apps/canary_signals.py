"""What a revision answered during one rollout step, from its own /metrics: the 5xx ratio and p95 latency the alert
catalogue's ApiServerErrorRatioHigh and ApiLatencyP95High rules watch, judged on the step's window.

Azure Monitor's metrics arrive minutes late and cover the whole app; a step needs the new revision's answers now.
The service counts every answer it gives (garch_http_requests_total, garch_http_request_duration_seconds), so two
scrapes of the revision's /metrics, at the step's start and now, give exactly what it answered in between.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from provisioning.monitoring.catalogue import AlertRule

REQUESTS, LATENCY = "garch_http_requests_total", "garch_http_request_duration_seconds"
NOT_COUNTED_ROUTES = frozenset({"/metrics"})  # the watch's own scrapes


@dataclass(frozen=True)
class Counts:
    """Cumulative answers of one revision: total, 5xx, and the latency histogram's cumulative buckets."""

    total: float
    server_errors: float
    buckets: tuple[tuple[float, float], ...]  # (upper bound in s, cumulative count), sorted, ending at +Inf

    @classmethod
    def parse(cls, text: str) -> "Counts":
        total = server_errors = 0.0
        buckets: dict[float, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.labels.get("route") in NOT_COUNTED_ROUTES:
                    continue
                if sample.name == REQUESTS:
                    total += sample.value
                    server_errors += sample.value if sample.labels.get("status", "").startswith("5") else 0.0
                elif sample.name == f"{LATENCY}_bucket":
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0.0) + sample.value
        return cls(total, server_errors, tuple(sorted(buckets.items())))

    def since(self, start: "Counts") -> "Counts | None":
        """The answers between `start` and now; None when a counter went down (another replica or a restart
        answered the scrape), so the caller starts a new window."""
        before = dict(start.buckets)
        buckets = tuple((bound, count - before.get(bound, 0.0)) for bound, count in self.buckets)
        deltas = [self.total - start.total, self.server_errors - start.server_errors, *(c for _, c in buckets)]
        return None if any(d < 0 for d in deltas) else Counts(deltas[0], deltas[1], buckets)

    def quantile_s(self, q: float) -> float | None:
        """As Prometheus' histogram_quantile: linear within the bucket holding the q-th answer."""
        if not self.buckets or self.buckets[-1][1] <= 0:
            return None
        rank = q * self.buckets[-1][1]
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in self.buckets:
            if count >= rank:
                if math.isinf(bound):
                    return lower_bound
                share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
                return lower_bound + (bound - lower_bound) * share
            lower_bound, lower_count = bound, count
        return None


@dataclass(frozen=True)
class SignalLimits:
    """The catalogue's thresholds for the two signals a step is judged on (None: no such rule configured)."""

    server_error_rule: AlertRule | None
    latency_rule: AlertRule | None

    @classmethod
    def from_catalogue(cls, rules: Iterable[AlertRule]) -> "SignalLimits":
        by_signal = {rule.signal: rule for rule in rules}
        return cls(by_signal.get("server_error_ratio"), by_signal.get("latency_p95"))

    def breach(self, window: Counts, min_requests: int) -> tuple[str, str] | None:
        """(rule name, what was seen) for the first threshold `window` crosses; None while it holds or there are
        fewer than `min_requests` answers to judge."""
        if window.total < min_requests:
            return None
        rule = self.server_error_rule
        if rule is not None:
            ratio = 100.0 * window.server_errors / window.total
            if _crosses(rule, ratio):
                seen = f"{window.server_errors:g} of {window.total:g} answers were 5xx ({ratio:.1f}%"
                return rule.name, f"{seen} {rule.operator} {rule.threshold.value:g}%)"
        rule = self.latency_rule
        p95 = window.quantile_s(0.95)
        if rule is not None and p95 is not None and _crosses(rule, p95 * 1000):
            return rule.name, f"p95 latency {p95 * 1000:.0f} ms over {window.total:g} answers " + (
                f"({rule.operator} {rule.threshold.value:g} ms)"
            )
        return None


def _crosses(rule: AlertRule, value: float) -> bool:
    limit = rule.threshold.value
    return {
        "GreaterThan": value > limit,
        "GreaterThanOrEqual": value >= limit,
        "LessThan": value < limit,
        "LessThanOrEqual": value <= limit,
    }[rule.operator]
