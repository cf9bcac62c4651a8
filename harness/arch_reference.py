"""arch called directly, with a spec's settings: the reference the service's own model code must equal."""

from typing import Literal

import numpy as np
from arch import arch_model
from arch.univariate.base import ARCHModelResult

from service.garch.spec import ModelSpec

ARCH_MEAN: dict[str, Literal["Constant", "Zero"]] = {"constant": "Constant", "zero": "Zero"}


def arch_fit(returns: np.ndarray, spec: ModelSpec) -> ARCHModelResult:
    """`arch_model(...).fit()` as a user of arch would write it (no rescaling: the service does not rescale)."""
    model = arch_model(
        returns, mean=ARCH_MEAN[spec.mean], vol=spec.vol, p=spec.p, o=spec.o, q=spec.q, dist=spec.dist, rescale=False
    )
    return model.fit(disp="off")
