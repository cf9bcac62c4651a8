"""The estimates as a person reads them (markdown) and as a machine does (JSON): each target's resources, its
monthly total, what it assumes, and the price snapshot's date."""

import json
from pathlib import Path
from typing import Any

from provisioning.config import ProjectConfig
from provisioning.cost import estimate as estimates
from provisioning.cost.estimate import TARGETS, TargetEstimate
from provisioning.cost.prices import PriceSnapshot, load_snapshot
from provisioning.cost.session import session_cost

TITLES = {"container_instances": "Container Instances", "container_apps": "Container Apps", "aks": "AKS"}


def _total(estimate: TargetEstimate) -> str:
    total = estimate.monthly_usd
    return "not estimated" if total is None else f"${total:,.2f}"


def markdown(
    snapshot: PriceSnapshot, monthly: list[TargetEstimate], sessions: dict[str, TargetEstimate], configured: str
) -> str:
    lines = [
        f"# What it costs (USD, retail, prices of {snapshot.snapshot_date})",
        "",
        "| target | per month | |",
        "|---|---:|---|",
    ]
    for estimate in monthly:
        mark = "configured" if estimate.target == configured else ""
        lines.append(f"| {TITLES.get(estimate.target, estimate.target)} | {_total(estimate)} | {mark} |")
    for estimate in monthly:
        lines += ["", f"## {TITLES.get(estimate.target, estimate.target)}: {_total(estimate)} a month", ""]
        if estimate.missing:
            lines.append(f"Not estimated: {estimate.missing}.")
            continue
        lines += ["| resource | quantity | per month | price |", "|---|---|---:|---|"]
        lines += [f"| {x.resource} | {x.quantity} | ${x.monthly_usd:,.2f} | {x.meter} |" for x in estimate.lines]
        lines += [f"- {note}" for note in estimate.notes]
    for name, session in sessions.items():
        lines += ["", f"## One harness session: {name}, {_total(session)}", ""]
        if session.missing:
            lines.append(f"Not estimated: {session.missing}.")
        else:
            lines += [f"- {x.resource}: {x.quantity}, ${x.monthly_usd:,.4f}" for x in session.lines]
        lines += [f"- {note}" for note in session.notes]
    return "\n".join(lines) + "\n"


def as_json(
    snapshot: PriceSnapshot, monthly: list[TargetEstimate], sessions: dict[str, TargetEstimate], configured: str
) -> dict[str, Any]:
    return {
        "snapshot_date": str(snapshot.snapshot_date),
        "currency": snapshot.currency,
        "configured_target": configured,
        "monthly": [estimate.as_json() for estimate in monthly],
        "sessions": {name: session.as_json() for name, session in sessions.items()},
    }


def write_reports(config: ProjectConfig, reports: Path) -> tuple[str, str | None]:
    """reports/cost.md and cost.json: every target's month and the sessions whose ARM request logs are in `reports`
    (the ACI rehearsal's at the top, Container Apps' under container-apps/). Returns the markdown and, when the
    configured target needs a price the snapshot lacks, why."""
    snapshot, configured = load_snapshot(), config.azure.target
    monthly = [estimates.estimate(config, snapshot, target) for target in TARGETS]
    logs = {"container_instances": reports / "arm_requests.json",
            "container_apps": reports / "container-apps" / "arm_requests.json"}  # fmt: skip
    sessions = {
        f"prod rehearsal on {TITLES[target]}": found
        for target, log in logs.items()
        if (found := session_cost(config, snapshot, target, log)) is not None
    }
    text = markdown(snapshot, monthly, sessions, configured)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "cost.md").write_text(text)
    (reports / "cost.json").write_text(json.dumps(as_json(snapshot, monthly, sessions, configured), indent=1))
    return text, next(e.missing for e in monthly if e.target == configured)
