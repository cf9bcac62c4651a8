"""What a model may be, and the documented bounds of what the API accepts."""

from dataclasses import dataclass
from typing import Literal

Volatility = Literal["GARCH", "EGARCH"]
Distribution = Literal["normal", "t", "skewt"]
Mean = Literal["constant", "zero"]
ForecastMethod = Literal["analytic", "simulation"]

MIN_RETURNS = 100
"""Fewer observations than this give parameter estimates that mean nothing (arch will still 'fit' five points)."""
MAX_RETURNS = 20_000
MAX_ABS_RETURN = 1_000.0
"""Returns are in percent; a daily move beyond +/-1000% is a unit error, and larger values overflow the likelihood."""
MAX_LAG = 3
MIN_HORIZON = 1
MAX_HORIZON = 252
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A GARCH-family model as arch names it: GJR-GARCH is GARCH with o > 0."""

    vol: Volatility = "GARCH"
    p: int = 1
    o: int = 0
    q: int = 1
    dist: Distribution = "normal"
    mean: Mean = "constant"

    def __post_init__(self) -> None:
        if not 1 <= self.p <= MAX_LAG:
            raise ValueError(f"p must be in 1..{MAX_LAG}, got {self.p}")
        for name in ("o", "q"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_LAG:
                raise ValueError(f"{name} must be in 0..{MAX_LAG}, got {value}")

    @property
    def label(self) -> str:
        """The name a quant would use: GARCH(1,1), GJR-GARCH(1,1,1), EGARCH(1,0,1)."""
        if self.vol == "GARCH" and self.o > 0:
            return f"GJR-GARCH({self.p},{self.o},{self.q})"
        if self.o > 0:
            return f"{self.vol}({self.p},{self.o},{self.q})"
        return f"{self.vol}({self.p},{self.q})"

    def forecast_method(self, horizon: int) -> ForecastMethod:
        """arch has no closed form for EGARCH beyond one step, so those forecasts are simulated."""
        return "simulation" if self.vol == "EGARCH" and horizon > 1 else "analytic"
