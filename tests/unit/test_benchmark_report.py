"""The benchmark report's arithmetic and rendering: ratios, their gate, the saved baseline, the table and the plot.

A benchmark run trusts these to turn samples into a verdict, so they are checked on numbers worked out by hand.
"""

import json
from pathlib import Path

import pytest

from harness.benchmarks.cpu_usage import TICKS_PER_S, CpuWindow, group_cpu_s, machine_busy_s
from harness.benchmarks.plot import write_benchmark_plot
from harness.benchmarks.report import (
    RATIOS_KEY,
    RatioMissed,
    RatioResult,
    Side,
    in_order,
    latest_saved_ratios,
    markdown_summary,
)

pytestmark = pytest.mark.unit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def latency(key: str, ours: tuple[float, ...], theirs: tuple[float, ...], **options: object) -> RatioResult:
    values: dict[str, object] = {
        "key": key,
        "title": "predict latency",
        "ours": Side("garch-mlops", "ms", ours),
        "theirs": Side("arch", "ms", theirs),
        "target": 1.5,
        "direction": "<=",
        "enforced": True,
    }
    return RatioResult(**{**values, **options})  # type: ignore[arg-type]


def throughput(key: str, ours: tuple[float, ...], theirs: tuple[float, ...]) -> RatioResult:
    return RatioResult(
        key=key,
        title="requests per second",
        ours=Side("garch-mlops", "req/s", ours),
        theirs=Side("plain uvicorn", "req/s", theirs),
        target=0.8,
        direction=">=",
        enforced=False,
        notes=("the machine was shared",),
    )


def test_an_unpaired_ratio_is_the_ratio_of_the_medians_and_a_paired_one_the_median_of_ratios() -> None:
    unpaired = latency("B1 n=250", (10.0, 30.0, 20.0), (10.0, 40.0, 20.0))
    paired = latency("B1 n=250", (10.0, 30.0, 20.0), (5.0, 60.0, 20.0), paired=True)

    assert unpaired.value == pytest.approx(1.0)  # 20 / 20
    assert paired.value == pytest.approx(1.0)  # median of 2.0, 0.5, 1.0
    assert latency("B1", (40.0,), (20.0,)).met is False  # 2.0 > 1.5
    assert throughput("B2", (90.0,), (100.0,)).met is True  # 0.9 >= 0.8
    assert throughput("B2", (70.0,), (100.0,)).met is False


def test_a_result_survives_its_json_form_and_a_miss_names_the_numbers() -> None:
    result = latency("B1 n=1000", (3.0, 4.0), (2.0, 2.0), paired=True, notes=("warm",))

    assert RatioResult.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert result.to_json()["value"] == pytest.approx(1.75) and result.to_json()["met"] is False
    message = str(RatioMissed(result))
    assert "B1 n=1000 predict latency: ratio 1.750, target <= 1.5" in message
    assert "garch-mlops 3.5 ms / arch 2 ms" in message


def test_results_are_ordered_by_benchmark_then_by_size() -> None:
    results = [latency(key, (1.0,), (1.0,)) for key in ("B2", "B1 n=1000", "B1 n=250", "B1 n=5000")]
    assert [result.key for result in in_order(results)] == ["B1 n=250", "B1 n=1000", "B1 n=5000", "B2"]


def test_the_baseline_is_the_newest_saved_run_that_has_ratios(tmp_path: Path) -> None:
    runs = tmp_path / "Linux-CPython-3.11-64bit"
    runs.mkdir()
    (runs / "0001_old.json").write_text(json.dumps({RATIOS_KEY: [{"key": "B1", "value": 1.1}]}))
    (runs / "0002_mid.json").write_text(json.dumps({RATIOS_KEY: [{"key": "B1", "value": 1.2}]}))
    (runs / "0003_no_ratios.json").write_text(json.dumps({"benchmarks": []}))
    (runs / "0004_truncated.json").write_text("{")

    assert latest_saved_ratios(tmp_path) == {"B1": 1.2}
    assert latest_saved_ratios(tmp_path / "nothing-saved") == {}


def test_the_summary_table_shows_verdicts_gates_changes_and_notes() -> None:
    results = [throughput("B2", (90.0,), (100.0,)), latency("B1 n=250", (30.0,), (20.0,))]

    table = markdown_summary(results, baseline={"B1 n=250": 1.2}, context={"mode": "short", "cores": "2"})

    lines = table.splitlines()
    assert lines[0] == "# Benchmarks" and lines[2] == "mode: short · cores: 2"
    rows = [line for line in lines if line.startswith("| B")]
    assert rows[0].startswith("| B1 n=250 |") and rows[1].startswith("| B2 |")
    assert "| 1.500 | <= 1.5 | yes | asserted | 1.200 (+25%) |" in rows[0]
    assert "garch-mlops: 30 ms (median of 1)" in rows[0]
    assert "| 0.900 | >= 0.8 | yes | reported | none |" in rows[1]
    assert lines[-1] == "- B2: the machine was shared"


def test_the_plot_is_a_png_with_every_panel_even_when_one_kind_is_missing(tmp_path: Path) -> None:
    mixed = [latency("B1 n=250", (9.0, 11.0, 10.0), (8.0, 9.0)), throughput("B2", (90.0, 95.0), (100.0, 99.0))]

    both = write_benchmark_plot(mixed, tmp_path / "plots" / "both.png", title="benchmarks")
    only_throughput = write_benchmark_plot(mixed[1:], tmp_path / "throughput.png", title="throughput only")
    only_latency = write_benchmark_plot(mixed[:1], tmp_path / "latency.png", title="latency only")

    for path in (both, only_throughput, only_latency):
        assert path.read_bytes().startswith(PNG_SIGNATURE) and path.stat().st_size > 10_000


def fake_proc(root: Path, stat_line: str, processes: dict[int, tuple[str, int, int, int]]) -> Path:
    """/proc with a machine-wide stat line and processes as pid -> (state, process group, utime, stime)."""
    (root / "stat").write_text(stat_line + "\ncpu0 1 2 3 4\n")
    for pid, (state, group, utime, stime) in processes.items():
        (root / str(pid)).mkdir()
        fields = [state, "1", str(group)] + ["0"] * 8 + [str(utime), str(stime)] + ["0"] * 10
        (root / str(pid) / "stat").write_text(f"{pid} (uvicorn (worker)) " + " ".join(fields))
    (root / "self").mkdir()
    return root


def test_cpu_seconds_are_read_from_proc(tmp_path: Path) -> None:
    ticks = TICKS_PER_S
    proc = fake_proc(
        tmp_path,
        f"cpu  {ticks} 0 {ticks} {50 * ticks} {7 * ticks} 0 {ticks} 0 99 99",
        {
            10: ("S", 10, 2 * ticks, ticks),
            11: ("R", 10, ticks, 0),
            12: ("Z", 10, 100 * ticks, 0),  # a zombie: its time is its parent's to report
            13: ("S", 99, 100 * ticks, 0),  # another group
        },
    )

    assert machine_busy_s(proc) == pytest.approx(3.0)  # user + system + softirq; idle and iowait excluded
    assert group_cpu_s(10, proc) == pytest.approx(4.0)
    assert group_cpu_s(42, proc) == 0.0
    window = CpuWindow(elapsed_s=2.0, server_s=1.0, load_generator_s=0.5, machine_busy_s=2.5)
    assert window.other_cores == pytest.approx(0.5)
    assert CpuWindow(elapsed_s=1.0, server_s=2.0, load_generator_s=1.0, machine_busy_s=2.0).other_cores == 0.0
