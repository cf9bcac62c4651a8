"""CPU seconds from /proc: the whole machine's, one process group's, and our reaped children's.

On a shared machine a throughput ratio that needs two free cores means little without knowing how much of the
machine other processes took meanwhile; these counters say it.
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from provisioning.processes import group_members

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def machine_busy_s(proc: Path = Path("/proc")) -> float:
    """CPU seconds all cores spent not idle since boot (idle and iowait excluded)."""
    fields = [int(value) for value in (proc / "stat").read_text().splitlines()[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / TICKS_PER_S


def group_cpu_s(group: int, proc: Path = Path("/proc")) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    total = 0
    for pid in group_members(group, proc):
        try:
            fields = (proc / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:  # exited between listing and reading
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS_PER_S


def children_cpu_s() -> float:
    """CPU seconds used by this process's terminated, reaped children (a load generator run to completion)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CpuWindow:
    """What the CPU did while one measurement ran."""

    elapsed_s: float
    server_s: float
    load_generator_s: float
    machine_busy_s: float

    @property
    def other_cores(self) -> float:
        """Cores' worth of CPU that neither the server nor the load generator used (other tenants, this test)."""
        return max(self.machine_busy_s - self.server_s - self.load_generator_s, 0.0) / self.elapsed_s
