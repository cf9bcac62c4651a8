"""How long the benchmarks measure: `short` in every `make test`, `full` for the numbers the README shows."""

from dataclasses import dataclass
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Budget:
    """Rounds and burst lengths; medians over them are what the ratios compare."""

    model_rounds: int
    """B1: interleaved rounds of service vs arch per series length (and pytest-benchmark rounds)."""
    http_rounds: int
    """B2: interleaved rounds of one HTTP request vs one in-process arch fit."""
    bursts: int
    """B3-B5: wrk bursts per side, alternating sides."""
    burst_s: int
    """Seconds per wrk burst."""


BUDGETS: dict[str, Budget] = {
    "short": Budget(model_rounds=40, http_rounds=40, bursts=3, burst_s=2),
    "full": Budget(model_rounds=200, http_rounds=200, bursts=7, burst_s=5),
}


class BenchmarkSettings(BaseSettings):
    """Read once from the environment: GARCH_BENCHMARK_MODE=short|full (full when unset)."""

    model_config = SettingsConfigDict(env_prefix="GARCH_BENCHMARK_", extra="ignore")

    mode: Literal["short", "full"] = "full"

    @property
    def budget(self) -> Budget:
        return BUDGETS[self.mode]
