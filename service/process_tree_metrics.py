"""CPU and memory of the whole server: the supervisor and every worker, summed.

prometheus_client's ProcessCollector describes one process, and in multiprocess mode it is not aggregated at all;
alerts on CPU and memory relative to the container's limits need the total, so this sums it over the tree.
"""

import os
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

SUMMED = (
    "process_cpu_seconds",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_open_fds",
)
FROM_ROOT = ("process_start_time_seconds", "process_max_fds")


def process_tree(root: int, proc: str = "/proc") -> list[int]:
    """`root` and all its descendants that are alive now."""
    parents: dict[int, int] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "stat"), "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        parents[int(entry)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.extend(children)
        frontier.extend(children)
    return tree


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


class ProcessTreeCollector(Collector):
    """Sums ProcessCollector's samples over a process tree."""

    def __init__(self, root_pid: int, proc: str = "/proc") -> None:
        self._root = root_pid
        self._proc = proc

    def collect(self) -> Iterator[Metric]:
        totals: dict[str, float] = {}
        documentation: dict[str, tuple[str, str]] = {}
        for pid in process_tree(self._root, self._proc):
            for family in ProcessCollector(pid=_constant(pid), proc=self._proc, registry=None).collect():
                documentation[family.name] = (family.documentation, family.type)
                for sample in family.samples:
                    if family.name in SUMMED:
                        totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
                    elif family.name in FROM_ROOT and pid == self._root:
                        totals[sample.name] = sample.value
        for name, (doc, kind) in documentation.items():
            sample_name = f"{name}_total" if kind == "counter" else name
            if sample_name not in totals:
                continue
            if kind == "counter":
                yield CounterMetricFamily(name, doc, value=totals[sample_name])
            else:
                yield GaugeMetricFamily(name, doc, value=totals[sample_name])
