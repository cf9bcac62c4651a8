"""Azure's retail prices as the Retail Prices API (prices.azure.com/api/retail/prices) answers them, item for item,
from a dated snapshot in the repository: a price is looked up by service, meter and region, and one that is not in
the snapshot is an error naming it, never a zero.

A meter's tiers are its items with the same service, product, SKU, meter and region, by `tierMinimumUnits`: the
units from one tier's minimum to the next one's cost that tier's `retailPrice` (Log Analytics' first 5 GB at 0, say).
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from provisioning.errors import DeploymentError

SNAPSHOT = Path(__file__).resolve().parent / "retail_prices.json"
UNIT = re.compile(r"^(?P<amount>\d+(\.\d+)?)\s*(?P<scale>[KM])?\s*(?P<rest>.*)$")


class MissingMeter(DeploymentError):
    """The snapshot has no price for a meter the estimate needs."""


class PriceItem(BaseModel):
    """One item of the Retail Prices API (the fields an estimate reads; `source` says where a snapshot got it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    serviceName: str
    productName: str = ""
    skuName: str = ""
    meterName: str
    armRegionName: str
    unitOfMeasure: str
    retailPrice: float = Field(ge=0)
    tierMinimumUnits: float = Field(default=0, ge=0)
    effectiveStartDate: str | None = None
    type: str = "Consumption"
    currencyCode: str = "USD"
    source: str | None = None


@dataclass(frozen=True)
class Meter:
    """A priced meter: per `unit_amount` of `unit`, at each tier's price from its minimum on."""

    service: str
    name: str
    region: str
    unit: str
    unit_amount: float
    tiers: tuple[tuple[float, float], ...]  # (minimum units, price per unit_amount), ascending

    def cost(self, quantity: float) -> float:
        """The price of `quantity` units of measure (graduated: each tier prices only the units inside it)."""
        if quantity < 0:
            raise ValueError(f"{self.name}: quantity {quantity} is negative")
        units, total = quantity / self.unit_amount, 0.0
        for index, (minimum, price) in enumerate(self.tiers):
            upper = self.tiers[index + 1][0] if index + 1 < len(self.tiers) else float("inf")
            total += max(0.0, min(units, upper) - minimum) * price
        return total

    def describe(self) -> str:
        first = self.tiers[-1][1] if self.tiers else 0.0
        return f"{self.service} / {self.name} ({self.region}): ${first:g} per {self.unit}"


def unit_amount(unit_of_measure: str) -> tuple[float, str]:
    """'10K' -> (10000, ''), '1M' -> (1e6, ''), '1 Hour' -> (1, 'Hour'), '1 GiB Second' -> (1, 'GiB Second')."""
    match = UNIT.match(unit_of_measure.strip())
    if match is None:
        return 1.0, unit_of_measure
    scale = {"K": 1e3, "M": 1e6}.get(match["scale"] or "", 1.0)
    return float(match["amount"]) * scale, match["rest"].lstrip("/ ").strip()


class PriceSnapshot(BaseModel):
    """A dated set of Retail Prices API items (`Items`, as the API pages them)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    snapshot_date: date = Field(alias="snapshotDate")
    currency: str = Field(default="USD", alias="currencyCode")
    note: str = ""
    items: tuple[PriceItem, ...] = Field(alias="Items")

    def meter(self, service: str, meter: str, region: str, *, sku: str | None = None, unit: str | None = None) -> Meter:
        """The meter's tiers in `region` (global meters are looked up under region 'Global' too)."""
        found = [
            item
            for item in self.items
            if item.serviceName == service
            and item.meterName == meter
            and item.armRegionName in (region, "Global", "")
            and item.type == "Consumption"
            and (sku is None or item.skuName == sku)
            and (unit is None or item.unitOfMeasure == unit)
        ]
        if not found:
            raise MissingMeter(
                f"no price for {service} / {meter}{f' ({sku})' if sku else ''} in {region} in the price snapshot of "
                f"{self.snapshot_date} (mlops-deploy --action prices --refresh rebuilds it where "
                "prices.azure.com answers)"
            )
        amount, _ = unit_amount(found[0].unitOfMeasure)
        tiers = tuple(sorted({(item.tierMinimumUnits, item.retailPrice) for item in found}))
        return Meter(service, meter, found[0].armRegionName, found[0].unitOfMeasure, amount, tiers)


def load_snapshot(path: Path = SNAPSHOT) -> PriceSnapshot:
    return PriceSnapshot.model_validate(json.loads(path.read_text()))
