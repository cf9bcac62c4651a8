"""The benchmarks as one PNG: latency distributions, throughput per burst, and every ratio against its target."""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: CI has no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from harness.benchmarks.report import RatioResult, in_order

OURS_COLOUR, THEIRS_COLOUR = "#1f77b4", "#b0b0b0"
MET_COLOUR, MISSED_COLOUR = "#2ca02c", "#d62728"


def write_benchmark_plot(results: Sequence[RatioResult], path: Path, *, title: str) -> Path:
    """Latency (box plots, log scale), throughput (bars with each burst as a dot) and ratios vs targets."""
    results = in_order(results)
    latency = [r for r in results if r.ours.unit == "ms"]
    throughput = [r for r in results if r.ours.unit == "req/s"]
    figure = plt.figure(figsize=(15, 10), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(1.1, 1))
    _latency_panel(figure.add_subplot(grid[0, :]), latency)
    _throughput_panel(figure.add_subplot(grid[1, 0]), throughput)
    _ratio_panel(figure.add_subplot(grid[1, 1]), results)
    figure.suptitle(title, fontsize=13)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _latency_panel(axes: Axes, results: Sequence[RatioResult]) -> None:
    axes.set_title("Latency per request: ours (blue) vs theirs (grey), every sample")
    if not results:
        axes.text(0.5, 0.5, "no latency benchmarks in this run", ha="center", transform=axes.transAxes)
        return
    data, positions, colours, ticks, labels = [], [], [], [], []
    for index, result in enumerate(results):
        centre = index * 3.0
        data += [result.ours.samples, result.theirs.samples]
        positions += [centre - 0.55, centre + 0.55]
        colours += [OURS_COLOUR, THEIRS_COLOUR]
        ticks.append(centre)
        labels.append(f"{result.key}\n{result.ours.label}\nvs {result.theirs.label}\nratio {result.value:.2f}")
    boxes = axes.boxplot(data, positions=positions, widths=0.9, patch_artist=True, showfliers=True)
    for patch, colour in zip(boxes["boxes"], colours, strict=True):
        patch.set_facecolor(colour)
    for flier in boxes["fliers"]:
        flier.set(marker=".", markersize=3, alpha=0.5)
    axes.set_yscale("log")
    axes.set_ylabel("ms (log scale)")
    axes.set_xticks(ticks, labels, fontsize=8)
    axes.grid(axis="y", which="both", alpha=0.3)


def _throughput_panel(axes: Axes, results: Sequence[RatioResult]) -> None:
    axes.set_title("Throughput under the same wrk load: ours (blue) vs theirs (grey), median bar, each burst a dot")
    if not results:
        axes.text(0.5, 0.5, "no throughput benchmarks in this run", ha="center", transform=axes.transAxes)
        return
    for index, result in enumerate(results):
        for offset, side, colour in ((-0.2, result.ours, OURS_COLOUR), (0.2, result.theirs, THEIRS_COLOUR)):
            x = index + offset
            axes.bar(x, side.median, width=0.38, color=colour, edgecolor="black", linewidth=0.5)
            axes.scatter([x] * len(side.samples), side.samples, color="black", s=10, zorder=3)
    labels = [f"{r.key}: ratio {r.value:.2f}\n{r.ours.label}\nvs {r.theirs.label}" for r in results]
    axes.set_xticks(range(len(results)), labels, fontsize=8)
    axes.set_ylabel("requests/s (log scale)")
    axes.set_yscale("log")
    axes.grid(axis="y", which="both", alpha=0.3)


def _ratio_panel(axes: Axes, results: Sequence[RatioResult]) -> None:
    axes.set_title("Ratio vs target (| = target; green met, red missed; hatched = reported only)")
    rows = list(reversed(results))
    for row, result in enumerate(rows):
        colour = MET_COLOUR if result.met else MISSED_COLOUR
        axes.barh(
            row,
            result.value,
            color=colour,
            alpha=0.8,
            hatch=None if result.enforced else "//",
            edgecolor="black",
            linewidth=0.5,
        )
        axes.plot([result.target, result.target], [row - 0.4, row + 0.4], color="black", linewidth=2)
        axes.annotate(
            f"{result.value:.2f} ({result.direction} {result.target:g})",
            (result.value, row),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.set_yticks(range(len(rows)), [r.key for r in rows], fontsize=8)
    axes.set_xlabel("ours / theirs (median of paired ratios)")
    axes.set_xlim(0, max([r.value for r in results] + [r.target for r in results] + [1.0]) * 1.35)
    axes.grid(axis="x", alpha=0.3)
