"""Names of one run's Azure resources: random per run (so runs never collide), derived from the configuration."""

import re
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from provisioning.config import AzureSection

PROJECT_TAG = "garch-mlops"
RUN_TAG = "run"
DELETE_AFTER_TAG = "DeleteAfter"


@dataclass(frozen=True)
class AciNames:
    run_id: str
    resource_group: str
    registry: str
    workspace: str
    component: str
    container_group: str
    dns_label: str
    storage_account: str = ""  # empty in states recorded before the model store was provisioned

    @classmethod
    def for_run(cls, azure: AzureSection, run_id: str | None = None) -> "AciNames":
        run_id = run_id or secrets.token_hex(3)
        return cls(
            run_id=run_id,
            resource_group=f"{azure.resource_group_prefix}-{run_id}",
            registry=f"{azure.container_registry}{run_id}"[:50],
            workspace=f"{azure.container_group}-logs-{run_id}",
            component=f"{azure.container_group}-insights-{run_id}",
            container_group=azure.container_group,
            dns_label=f"{azure.dns_label_prefix}-{run_id}",
            storage_account=storage_account_name(azure.model_storage.account_prefix, run_id),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def storage_account_name(prefix: str, run_id: str) -> str:
    """Azure's rule: 3-24 lower-case letters and digits, globally unique; the run id keeps its place at the end."""
    suffix = re.sub(r"[^a-z0-9]", "", run_id.lower())
    return re.sub(r"[^a-z0-9]", "", prefix.lower())[: 24 - len(suffix)] + suffix
