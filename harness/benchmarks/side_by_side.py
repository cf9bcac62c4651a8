"""Measuring two things side by side: interleaved in time, so drift on a shared machine hits both sides alike."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from harness.benchmarks.cpu_usage import CpuWindow, children_cpu_s, group_cpu_s, machine_busy_s
from harness.benchmarks.wrk_load import WrkLoad, WrkResult, run_wrk


def interleaved_ms(
    pipelines: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 2
) -> dict[str, tuple[float, ...]]:
    """Milliseconds per call of each pipeline; every round runs each once, starting with a different one."""
    names = list(pipelines)
    for _ in range(warmup):
        for name in names:
            pipelines[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            pipelines[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: tuple(values) for name, values in samples.items()}


@dataclass(frozen=True)
class Target:
    """A load and the process group of the server it hits (whose CPU is counted)."""

    load: WrkLoad
    server_group: int


@dataclass(frozen=True)
class Burst:
    result: WrkResult
    cpu: CpuWindow

    @property
    def server_ms_per_request(self) -> float:
        return self.cpu.server_s * 1000 / self.result.requests if self.result.requests else float("nan")


def alternating_bursts(
    targets: Mapping[str, Target], *, bursts: int, burst_s: int, warmup_s: int = 1
) -> dict[str, list[Burst]]:
    """wrk bursts against each target in turn (A B, B A, ...), after one warm-up burst each that is not counted."""
    for target in targets.values():
        run_wrk(target.load, duration_s=warmup_s)
    names = list(targets)
    measured: dict[str, list[Burst]] = {name: [] for name in names}
    for index in range(bursts):
        for name in names if index % 2 == 0 else names[::-1]:
            measured[name].append(_burst(targets[name], burst_s))
    return measured


def _burst(target: Target, burst_s: int) -> Burst:
    started, busy, server, children = (
        time.monotonic(),
        machine_busy_s(),
        group_cpu_s(target.server_group),
        children_cpu_s(),
    )
    result = run_wrk(target.load, duration_s=burst_s)
    window = CpuWindow(
        elapsed_s=time.monotonic() - started,
        server_s=group_cpu_s(target.server_group) - server,
        load_generator_s=children_cpu_s() - children,
        machine_busy_s=machine_busy_s() - busy,
    )
    return Burst(result, window)
