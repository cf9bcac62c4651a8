"""Benchmark results as ratios against their targets, and the markdown table a person reads after a CI run.

Every benchmark compares two things measured side by side in one run (absolute times on a shared 2-core machine
are noise); a result keeps both sides' samples so the table and the plot show what the ratio was made of.
"""

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Direction = Literal["<=", ">="]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: what ran, in which unit, and every sample taken."""

    label: str
    unit: Literal["ms", "req/s"]
    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass(frozen=True)
class RatioResult:
    """ours / theirs against a target; `enforced` says whether the run fails when it is missed.

    Paired results (sample i of each side taken back to back) use the median of the per-pair ratios, which cancels
    the slow drift of a shared machine; unpaired ones the ratio of the two medians.
    """

    key: str
    title: str
    ours: Side
    theirs: Side
    target: float
    direction: Direction
    enforced: bool
    paired: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def value(self) -> float:
        if self.paired:
            return statistics.median(a / b for a, b in zip(self.ours.samples, self.theirs.samples, strict=True))
        return self.ours.median / self.theirs.median

    @property
    def met(self) -> bool:
        return self.value <= self.target if self.direction == "<=" else self.value >= self.target

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "value": self.value, "met": self.met}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RatioResult":
        return cls(
            key=data["key"],
            title=data["title"],
            ours=Side(data["ours"]["label"], data["ours"]["unit"], tuple(data["ours"]["samples"])),
            theirs=Side(data["theirs"]["label"], data["theirs"]["unit"], tuple(data["theirs"]["samples"])),
            target=data["target"],
            direction=data["direction"],
            enforced=data["enforced"],
            paired=data.get("paired", False),
            notes=tuple(data.get("notes", ())),
        )


class RatioMissed(AssertionError):
    """An enforced ratio was outside its target; carries the measured value, the target and both medians."""

    def __init__(self, result: RatioResult) -> None:
        self.result = result
        super().__init__(
            f"{result.key} {result.title}: ratio {result.value:.3f}, target {result.direction} {result.target:g} "
            f"(medians: {result.ours.label} {result.ours.median:.4g} {result.ours.unit} / "
            f"{result.theirs.label} {result.theirs.median:.4g} {result.theirs.unit})"
        )


RATIOS_KEY = "garch_ratios"
"""Where the ratios live inside pytest-benchmark's JSON (reports/benchmarks.json and the saved baseline runs)."""


def latest_saved_ratios(storage: Path) -> dict[str, float]:
    """Ratios of the newest run pytest-benchmark saved under `storage` (`--benchmark-autosave`); empty if none."""
    runs = sorted(storage.glob("*/[0-9][0-9][0-9][0-9]_*.json"), key=lambda path: path.name)
    for path in reversed(runs):
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if RATIOS_KEY in saved:
            return {item["key"]: float(item["value"]) for item in saved[RATIOS_KEY]}
    return {}


def in_order(results: Iterable[RatioResult]) -> list[RatioResult]:
    """B1 n=250, B1 n=1000, ..., B5: by benchmark, then by the number in the key, whatever order they ran in."""

    def sort_key(result: RatioResult) -> tuple[str, int]:
        name, _, size = result.key.partition(" n=")
        return name, int(size) if size.isdigit() else 0

    return sorted(results, key=sort_key)


def markdown_summary(
    results: Iterable[RatioResult], *, baseline: Mapping[str, float], context: Mapping[str, str]
) -> str:
    """The summary table: one row per ratio, its target, whether it was met, and the change from the baseline."""
    lines = [
        "# Benchmarks",
        "",
        " · ".join(f"{name}: {value}" for name, value in context.items()),
        "",
        "| benchmark | what | ours | theirs | ratio | target | met | gate | previous run |",
        "| --- | --- | --- | --- | ---: | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for result in in_order(results):
        previous = baseline.get(result.key)
        change = f"{previous:.3f} ({(result.value / previous - 1) * 100:+.0f}%)" if previous else "none"
        lines.append(
            f"| {result.key} | {result.title} | {_side(result.ours)} | {_side(result.theirs)} "
            f"| {result.value:.3f} | {result.direction} {result.target:g} | {'yes' if result.met else 'NO'} "
            f"| {'asserted' if result.enforced else 'reported'} | {change} |"
        )
        notes.extend(f"- {result.key}: {note}" for note in result.notes)
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _side(side: Side) -> str:
    return f"{side.label}: {side.median:.4g} {side.unit} (median of {len(side.samples)})"
