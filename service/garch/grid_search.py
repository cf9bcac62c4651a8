"""arch's volatility processes with the same starting values for a quarter of the likelihood evaluations.

arch picks starting values from a grid that crosses alpha x gamma x persistence (64 points for GARCH, 48 for
EGARCH) even when the model has no asymmetric term (o = 0), where gamma changes nothing: three in four points are
evaluated again with identical parameters. Remembering the likelihood of each distinct point while arch's own
`starting_values` runs returns exactly arch's choice (its argmax sees the same numbers), and saves about half of
a GARCH(1,1) fit's time outside the optimizer. If arch renames the hook, nothing is cached and nothing changes.
"""

from typing import Any

from arch.univariate import EGARCH, GARCH
from arch.univariate.volatility import VolatilityProcess

from .spec import ModelSpec


class _RemembersGridPoints(VolatilityProcess):
    """Caches `_gaussian_loglikelihood` by parameter bytes, only for the duration of one `starting_values` call."""

    _grid: dict[bytes, float] | None = None

    def starting_values(self, resids: Any) -> Any:
        self._grid = {}
        try:
            return super().starting_values(resids)  # type: ignore[safe-super]  # arch's concrete class is next in the MRO
        finally:
            self._grid = None

    def _gaussian_loglikelihood(self, parameters: Any, resids: Any, backcast: Any, var_bounds: Any) -> float:
        if self._grid is None:
            return super()._gaussian_loglikelihood(parameters, resids, backcast, var_bounds)
        key = parameters.tobytes()
        if key not in self._grid:
            self._grid[key] = super()._gaussian_loglikelihood(parameters, resids, backcast, var_bounds)
        return self._grid[key]


class GridCachedGARCH(_RemembersGridPoints, GARCH):
    """arch's GARCH/GJR-GARCH, same results."""


class GridCachedEGARCH(_RemembersGridPoints, EGARCH):
    """arch's EGARCH, same results."""


def volatility_process(spec: ModelSpec) -> VolatilityProcess:
    """The volatility process arch_model would build for `spec`, with the grid cache."""
    if spec.vol == "EGARCH":
        return GridCachedEGARCH(p=spec.p, o=spec.o, q=spec.q)
    return GridCachedGARCH(p=spec.p, o=spec.o, q=spec.q)
