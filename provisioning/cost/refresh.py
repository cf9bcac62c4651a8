"""`--action prices --refresh`: the snapshot rebuilt from the Retail Prices API itself (never run by tests: it needs
prices.azure.com). It keeps the items of the services the estimate reads, in the configured region and the global
meters, pages through `NextPageLink`, and writes them with today's date."""

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from provisioning.cost.prices import SNAPSHOT
from provisioning.errors import DeploymentError

API = "https://prices.azure.com/api/retail/prices"
SERVICES = (
    "Container Instances", "Azure Container Apps", "Virtual Machines", "Container Registry", "Storage",
    "Log Analytics", "Azure Monitor", "Key Vault",
)  # fmt: skip
PAGES_AT_MOST = 200


def fetch_items(region: str, client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for service in SERVICES:
        query = f"serviceName eq '{service}' and (armRegionName eq '{region}' or armRegionName eq 'Global')"
        url: str | None = f"{API}?$filter={query} and type eq 'Consumption'"
        for _ in range(PAGES_AT_MOST):
            if url is None:
                break
            try:
                page = client.get(url).raise_for_status().json()
            except httpx.HTTPError as error:
                unchanged = "the snapshot is unchanged"
                raise DeploymentError(f"the Retail Prices API did not answer ({error}); {unchanged}") from None
            items += page.get("Items", [])
            url = page.get("NextPageLink")
    return items


def refresh(region: str, path: Path = SNAPSHOT) -> int:
    """Rebuild the snapshot for `region`; returns how many items it holds."""
    with httpx.Client(timeout=30) as client:
        items = fetch_items(region, client)
    note = f"Retail Prices API items for {region} and the global meters, fetched on {date.today()}."
    document = {"snapshotDate": str(date.today()), "currencyCode": "USD", "note": note, "Items": items}
    path.write_text(json.dumps(document, indent=1) + "\n")
    return len(items)
