"""The monthly estimate, per resource, of the configured deployment on each target, from a price snapshot.

A month is 730 hours (Azure's pricing convention). Compute by target:
- container_instances: one group always on, deployment.cpu vCPU and memory_gb GB, every second of the month;
- container_apps: deployment.autoscale.min_replicas replicas of azure.container_apps' size, active
  cost.busy_hours_per_day and idle the rest, plus cost.requests_per_month; the Consumption plan's monthly free grant
  (180,000 vCPU-s, 360,000 GiB-s, 2 M requests per subscription) comes off active use first;
- aks: the node pool the HPA's replicas need (ceil(replicas x deployment.cpu / allocatable vCPUs per node)), at
  min_replicas all month (the max_replicas figure beside it), control plane on the Free tier.
Shared by all three: the registry (Basic), the model store's blob storage, Log Analytics ingestion
(cost.log_gb_per_day; Application Insights is workspace-based and ingests there), the alert rules the catalogue
renders (metric time series, log alerts by frequency) and the availability web test (locations x runs).
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from provisioning.config import AZURE_TARGETS, ProjectConfig
from provisioning.cost.prices import MissingMeter, PriceSnapshot
from provisioning.monitoring.azure_alerts import web_test_frequency_s

HOURS_PER_MONTH = 730.0
FREE_VCPU_SECONDS, FREE_GIB_SECONDS, FREE_REQUESTS = 180_000.0, 360_000.0, 2_000_000.0
METRIC_SIGNALS = frozenset({"health", "cpu", "memory"})  # metric alerts (health: the web test's availability metric)
LOG_ALERT_MINUTES = {"PT1M": 1, "PT5M": 5, "PT10M": 10, "PT15M": 15}
Target = str  # one of AZURE_TARGETS or "aks"
TARGETS: tuple[Target, ...] = (*AZURE_TARGETS, "aks")


@dataclass(frozen=True)
class Period:
    """What is priced: a month of configured use (busy cost.busy_hours_per_day, with the free grants), or a run of
    `hours` busy throughout with the grants taken by other use (a harness session)."""

    hours: float = HOURS_PER_MONTH
    busy_all_the_time: bool = False
    free_grants: bool = True


MONTH = Period()


@dataclass(frozen=True)
class Line:
    resource: str
    quantity: str
    monthly_usd: float
    meter: str


@dataclass
class TargetEstimate:
    target: Target
    lines: list[Line] = field(default_factory=list)
    missing: str | None = None  # why it could not be estimated (a meter the snapshot lacks)
    notes: list[str] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float | None:
        return None if self.missing else sum(line.monthly_usd for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "monthly_usd": self.monthly_usd}


class _Priced:
    """Adds lines to an estimate from the snapshot's meters in one region, for one period."""

    def __init__(self, snapshot: PriceSnapshot, region: str, estimate: TargetEstimate, period: Period) -> None:
        self.snapshot, self.region, self.estimate, self.period = snapshot, region, estimate, period

    def add(self, resource: str, service: str, meter: str, quantity: float, shown: str) -> None:
        priced = self.snapshot.meter(service, meter, self.region)
        self.estimate.lines.append(Line(resource, shown, round(priced.cost(quantity), 6), priced.describe()))


def _container_instances(project: ProjectConfig, add: _Priced) -> None:
    cpu, memory, hours = project.deployment.cpu, project.deployment.memory_gb, add.period.hours
    add.add("container group (always on)", "Container Instances", "Standard vCPU Duration", cpu * hours,
            f"{cpu:g} vCPU x {hours:g} h")  # fmt: skip
    add.add("container group (always on)", "Container Instances", "Standard Memory Duration", memory * hours,
            f"{memory:g} GB x {hours:g} h")  # fmt: skip


def _container_apps(project: ProjectConfig, add: _Priced) -> None:
    size, use, period = project.azure.container_apps, project.cost, add.period
    replicas = max(1, project.deployment.autoscale.min_replicas)
    busy_hours_per_day = 24.0 if period.busy_all_the_time else use.busy_hours_per_day
    active_s = replicas * busy_hours_per_day * 3600 * period.hours / 24
    idle_s = replicas * period.hours * 3600 - active_s
    grants = (FREE_VCPU_SECONDS, FREE_GIB_SECONDS) if period.free_grants else (0.0, 0.0)
    vcpu_active, vcpu_idle = _after_grant(size.cpu * active_s, size.cpu * idle_s, grants[0])
    memory_active, memory_idle = _after_grant(size.memory_gi * active_s, size.memory_gi * idle_s, grants[1])
    app = f"container app ({replicas} replicas, {busy_hours_per_day:g} h/day busy)"
    service = "Azure Container Apps"
    after = " after the free grant" if period.free_grants else ""
    add.add(app, service, "Standard vCPU Active Usage", vcpu_active, f"{vcpu_active:,.0f} vCPU-s{after}")
    add.add(app, service, "Standard vCPU Idle Usage", vcpu_idle, f"{vcpu_idle:,.0f} vCPU-s")
    add.add(app, service, "Standard Memory Active Usage", memory_active, f"{memory_active:,.0f} GiB-s{after}")
    add.add(app, service, "Standard Memory Idle Usage", memory_idle, f"{memory_idle:,.0f} GiB-s")
    if period.busy_all_the_time:
        return  # a session's requests are the tests': a few thousand, a fraction of a cent
    requests = max(0.0, use.requests_per_month - FREE_REQUESTS)
    add.add(app, service, "Standard Requests", requests, f"{requests:,.0f} requests after the free 2 M")


def _after_grant(active: float, idle: float, grant: float) -> tuple[float, float]:
    """A monthly free grant taken off active use first (the dearer rate), then off idle use."""
    left_active = max(0.0, active - grant)
    return left_active, max(0.0, idle - max(0.0, grant - active))


def aks_nodes(project: ProjectConfig, replicas: int) -> int:
    per_node = project.cost.aks_node_allocatable_vcpus
    return max(1, math.ceil(replicas * project.deployment.cpu / per_node))


def _aks(project: ProjectConfig, add: _Priced) -> None:
    scale, hours = project.deployment.autoscale, add.period.hours
    low, high = aks_nodes(project, max(1, scale.min_replicas)), aks_nodes(project, scale.max_replicas)
    add.add(f"node pool ({project.cost.aks_node}, Linux)", "Virtual Machines", project.cost.aks_node,
            low * hours, f"{low} node(s) x {hours:g} h for {max(1, scale.min_replicas)} pods")  # fmt: skip
    at_max = add.snapshot.meter("Virtual Machines", project.cost.aks_node, add.region).cost(high * hours)
    add.estimate.notes.append(
        f"at the HPA's {scale.max_replicas} replicas throughout: {high} nodes, ${at_max:,.2f}; the control plane is "
        "free on AKS's Free tier (the Standard tier's uptime SLA is billed per cluster hour)"
    )


def _shared(project: ProjectConfig, add: _Priced) -> None:
    use, monitoring, hours = project.cost, project.monitoring, add.period.hours
    days, months = hours / 24, hours / HOURS_PER_MONTH
    add.add(f"container registry ({project.azure.registry_sku})", "Container Registry",
            f"{project.azure.registry_sku} Registry Unit", days, f"{days:.2f} days")  # fmt: skip
    add.add("model store (blob, hot LRS)", "Storage", "Hot LRS Data Stored", use.model_store_gb * months,
            f"{use.model_store_gb:g} GB")  # fmt: skip
    logs = use.log_gb_per_day * days
    free = "first 5 GB free" if add.period.free_grants else "the free 5 GB taken by other use"
    add.add("Log Analytics + Application Insights", "Log Analytics", "Analytics Logs Data Ingestion",
            logs if add.period.free_grants else logs + 5, f"{logs:.2f} GB ingested ({free})")  # fmt: skip
    metric = sum(1 for rule in monitoring.alerts if rule.signal in METRIC_SIGNALS)
    add.add("metric alert rules", "Azure Monitor", "Alerts Metric Monitored", metric * months,
            f"{metric} time series (first 10 free)")  # fmt: skip
    for rule in monitoring.alerts:
        if rule.signal not in METRIC_SIGNALS:
            minutes = LOG_ALERT_MINUTES.get(rule.frequency, 15)
            meter = f"Alerts System Log Monitored at {minutes} Minute Frequency"
            add.add(f"log alert {rule.name}", "Azure Monitor", meter, months, f"1 rule every {minutes} min")
    runs = len(monitoring.web_test_locations) * hours * 3600 / web_test_frequency_s(monitoring)
    add.add("availability web test", "Azure Monitor", "Standard Web Test Execution", runs,
            f"{runs:,.0f} runs ({len(monitoring.web_test_locations)} locations)")  # fmt: skip


COMPUTE: dict[Target, Callable[[ProjectConfig, _Priced], None]] = {
    "container_instances": _container_instances,
    "container_apps": _container_apps,
    "aks": _aks,
}


def estimate(project: ProjectConfig, snapshot: PriceSnapshot, target: Target, period: Period = MONTH) -> TargetEstimate:
    """`target` at the configured sizes for `period`; `missing` names the first meter the snapshot lacks."""
    result = TargetEstimate(target)
    priced = _Priced(snapshot, project.azure.location, result, period)
    try:
        COMPUTE[target](project, priced)
        _shared(project, priced)
    except MissingMeter as missing:
        result.missing = str(missing)
    return result
