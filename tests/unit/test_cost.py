"""The cost arithmetic pinned against hand-computed cases: tiered meters, monthly free grants, per-second against
per-hour and per-10K units, a missing meter named rather than priced at zero, a session priced from its ARM log;
and the shipped snapshot read as the Retail Prices API's items."""

import json
from pathlib import Path

import pytest

from provisioning.cli import main
from provisioning.config import AutoscaleSection, ContainerAppsSection, DeploymentSection, ProjectConfig
from provisioning.cost.estimate import HOURS_PER_MONTH, estimate
from provisioning.cost.prices import MissingMeter, PriceItem, PriceSnapshot, load_snapshot, unit_amount
from provisioning.cost.session import session_hours

pytestmark = pytest.mark.unit

REGION = "westeurope"


def item(service: str, meter: str, unit: str, price: float, tier: float = 0, region: str = REGION) -> PriceItem:
    return PriceItem(serviceName=service, meterName=meter, armRegionName=region, unitOfMeasure=unit,
                     retailPrice=price, tierMinimumUnits=tier)  # fmt: skip


def snapshot(*items: PriceItem) -> PriceSnapshot:
    return PriceSnapshot(snapshotDate="2026-12-01", Items=items)  # type: ignore[call-arg]


def test_a_tiered_meter_prices_only_the_units_inside_each_tier() -> None:
    logs = snapshot(
        item("Log Analytics", "Ingestion", "1 GB", 0.0, 0), item("Log Analytics", "Ingestion", "1 GB", 2.99, 5)
    )
    meter = logs.meter("Log Analytics", "Ingestion", REGION)
    assert meter.cost(4.0) == 0.0
    assert meter.cost(6.0) == pytest.approx(2.99)  # 5 free, 1 at 2.99
    assert meter.cost(105.0) == pytest.approx(299.0)


def test_a_tier_that_starts_above_zero_leaves_the_units_below_it_free() -> None:
    alerts = snapshot(item("Azure Monitor", "Alerts Metric Monitored", "1/Month", 0.10, 10, region="Global"))
    meter = alerts.meter("Azure Monitor", "Alerts Metric Monitored", REGION)  # global meters answer for any region
    assert (meter.cost(3), meter.cost(10), meter.cost(12)) == (0.0, 0.0, pytest.approx(0.20))


@pytest.mark.parametrize(
    ("unit", "amount"), [("1 Hour", 1.0), ("10K", 10_000.0), ("1M", 1_000_000.0), ("1 GiB Second", 1.0), ("1/Day", 1.0)]
)
def test_units_of_measure_scale_the_quantity(unit: str, amount: float) -> None:
    assert unit_amount(unit)[0] == amount


def test_per_10k_operations_and_per_million_requests() -> None:
    prices = snapshot(
        item("Storage", "Writes", "10K", 0.054), item("Azure Container Apps", "Standard Requests", "1M", 0.56)
    )
    assert prices.meter("Storage", "Writes", REGION).cost(25_000) == pytest.approx(0.135)  # 2.5 x 0.054
    assert prices.meter("Azure Container Apps", "Standard Requests", REGION).cost(3_500_000) == pytest.approx(1.96)


def test_a_missing_meter_is_an_error_that_names_it() -> None:
    with pytest.raises(MissingMeter, match="no price for Container Instances / Standard vCPU Duration in westeurope"):
        snapshot().meter("Container Instances", "Standard vCPU Duration", REGION)


ACA = [
    item("Azure Container Apps", "Standard vCPU Active Usage", "1 Second", 0.000034),
    item("Azure Container Apps", "Standard vCPU Idle Usage", "1 Second", 0.000004),
    item("Azure Container Apps", "Standard Memory Active Usage", "1 GiB Second", 0.000004),
    item("Azure Container Apps", "Standard Memory Idle Usage", "1 GiB Second", 0.000004),
    item("Azure Container Apps", "Standard Requests", "1M", 0.56),
]
SHARED = [
    item("Container Registry", "Basic Registry Unit", "1/Day", 0.1666),
    item("Storage", "Hot LRS Data Stored", "1 GB/Month", 0.0196),
    item("Log Analytics", "Analytics Logs Data Ingestion", "1 GB", 0.0, 0),
    item("Log Analytics", "Analytics Logs Data Ingestion", "1 GB", 2.99, 5),
    item("Azure Monitor", "Alerts Metric Monitored", "1/Month", 0.10, 10, region="Global"),
    item("Azure Monitor", "Alerts System Log Monitored at 1 Minute Frequency", "1/Month", 3.0, region="Global"),
    item("Azure Monitor", "Standard Web Test Execution", "1", 0.000645),
]
ONE_HALF_CPU = ProjectConfig(
    azure={"container_apps": ContainerAppsSection(cpu=0.5, memory_gi=1.0)},  # type: ignore[arg-type]
    deployment=DeploymentSection(autoscale=AutoscaleSection(min_replicas=1)),
)


def test_container_apps_free_grant_comes_off_active_use_first() -> None:
    """One 0.5 vCPU / 1 GiB replica busy 8 h a day: by hand, active 0.5 x 8 x 3600 x 730/24 = 438,000 vCPU-s, less
    the 180,000 free = 258,000 at 0.000034 = $8.772; idle 0.5 x 16 x 3600 x 30.4167 = 876,000 at 0.000004 = $3.504;
    memory active 876,000 GiB-s less 360,000 = 516,000 and idle 1,752,000, both at 0.000004: $2.064 and $7.008."""
    result = estimate(ONE_HALF_CPU, snapshot(*ACA, *SHARED), "container_apps")
    app = [line.monthly_usd for line in result.lines if line.resource.startswith("container app")]
    assert app[:4] == pytest.approx([8.772, 3.504, 2.064, 7.008])
    assert result.missing is None and result.monthly_usd == pytest.approx(
        sum(line.monthly_usd for line in result.lines)
    )


def test_per_hour_compute_is_priced_for_730_hours() -> None:
    prices = snapshot(*SHARED, item("Virtual Machines", "D2s v5", "1 Hour", 0.115))
    aks = estimate(ProjectConfig(), prices, "aks")
    (nodes,) = [line for line in aks.lines if line.resource.startswith("node pool")]
    assert nodes.monthly_usd == pytest.approx(2 * HOURS_PER_MONTH * 0.115)  # 2 pods of 1 vCPU: 2 nodes of 1.9


def test_an_estimate_lacking_a_meter_says_which_and_has_no_total() -> None:
    result = estimate(ProjectConfig(), snapshot(*SHARED), "container_instances")
    assert result.monthly_usd is None and "Container Instances / Standard vCPU Duration" in (result.missing or "")


def test_a_session_lasts_from_its_groups_creation_to_its_deletion() -> None:
    log = [
        {"resource_type": "Microsoft.Resources/resourceGroups", "method": "GET", "status": 404, "time": 1000.0},
        {"resource_type": "Microsoft.Resources/resourceGroups", "method": "PUT", "status": 201, "time": 1010.0},
        {"resource_type": "Microsoft.App/containerApps", "method": "PUT", "status": 201, "time": 1100.0},
        {
            "resource_type": "Microsoft.Resources/resourceGroups",
            "method": "DELETE",
            "status": 202,
            "time": 1010.0 + 1800,
        },
    ]
    assert session_hours(log) == pytest.approx(0.5)
    assert session_hours(log[:3]) is None  # never deleted: no whole session to price


def test_the_shipped_snapshot_is_retail_prices_items_with_their_sources(tmp_path: Path) -> None:
    shipped = load_snapshot()
    assert shipped.items and all(item.source for item in shipped.items)
    assert main(["--action", "cost", "--reports-dir", str(tmp_path)]) == 3  # the default target lacks a price here
    document = json.loads((tmp_path / "cost.json").read_text())
    assert document["snapshot_date"] == str(shipped.snapshot_date)
    by_target = {entry["target"]: entry for entry in document["monthly"]}
    assert by_target["container_instances"]["monthly_usd"] is None and by_target["container_apps"]["monthly_usd"] > 0
