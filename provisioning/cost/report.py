"""The estimates as a person reads them (markdown) and as a machine does (JSON): each target's resources, its
monthly total, what it assumes, and the price snapshot's date."""

from typing import Any

from provisioning.cost.estimate import TargetEstimate
from provisioning.cost.prices import PriceSnapshot

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
