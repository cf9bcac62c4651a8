"""How long the benchmarks measure: `short` in every `make test`, `full` for the numbers the README shows."""

from dataclasses import dataclass
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Bursts:
    """wrk bursts per side, alternating sides; the ratio is the median over the pairs."""

    count: int
    seconds: int


@dataclass(frozen=True)
class Budget:
    """Rounds and bursts; medians of paired ratios over them are what the benchmarks compare."""

    model_rounds: int
    """B1: interleaved rounds of service vs arch per series length (half as many for pytest-benchmark's record)."""
    http_rounds: int
    """B2: interleaved rounds of one HTTP request vs one in-process arch fit."""
    cheap_requests: Bursts
    """B3: sub-millisecond requests; a shared machine's speed drifts by 30% from second to second: many short pairs."""
    custom_fits: Bursts
    """B4, B5: 20 ms requests; bursts long enough that opening the connections one by one is a small part."""
    load_generator_runs: Bursts
    """B8: locust runs per side (each starts its processes: a few seconds more than its length)."""


BUDGETS: dict[str, Budget] = {
    "short": Budget(
        model_rounds=40,
        http_rounds=40,
        cheap_requests=Bursts(6, 1),
        custom_fits=Bursts(3, 2),
        load_generator_runs=Bursts(2, 5),
    ),
    "full": Budget(
        model_rounds=200,
        http_rounds=200,
        cheap_requests=Bursts(15, 2),
        custom_fits=Bursts(7, 5),
        load_generator_runs=Bursts(4, 10),
    ),
}


class BenchmarkSettings(BaseSettings):
    """Read once from the environment: GARCH_BENCHMARK_MODE=short|full (full when unset)."""

    model_config = SettingsConfigDict(env_prefix="GARCH_BENCHMARK_", extra="ignore")

    mode: Literal["short", "full"] = "full"

    @property
    def budget(self) -> Budget:
        return BUDGETS[self.mode]
