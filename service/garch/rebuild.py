"""A published artifact back into an arch model: the same returns, the published parameters, fixed, not re-estimated.

arch's `fix(params)` filters the returns with the given parameters and forecasts exactly as the fitted result
did. As a check that this arch computes what the publisher's did, the log-likelihood of the rebuilt model must
equal the one recorded at fitting.
"""

import math
from typing import Any, cast

import numpy as np
from arch.univariate.base import ARCHModelResult

from ..model_store.artifact import ModelArtifact
from ..model_store.errors import ArtifactIncompatible
from .fitting import FittedModel, build_model
from .prefitted import TrainingData

LOGLIKELIHOOD_RTOL = 1e-9


def rebuild(artifact: ModelArtifact, *, where: str) -> tuple[FittedModel, TrainingData]:
    """The fitted model and its training data, as they were when the artifact was published."""
    spec = artifact.spec.to_spec()
    recorded = artifact.training_data
    data = TrainingData(
        source=recorded.source,
        returns=np.asarray(recorded.returns, dtype=float),
        first_date=recorded.first_date.isoformat(),
        last_date=recorded.last_date.isoformat(),
    )
    model = build_model(data.returns, spec)
    names = parameter_names(model)
    if sorted(names) != sorted(artifact.params):
        raise ArtifactIncompatible(
            f"{where}: parameters {sorted(artifact.params)} are not the {names} arch names for {spec.label}"
        )
    params = {name: artifact.params[name] for name in names}
    with np.errstate(all="ignore"):
        fixed = model.fix(np.array(list(params.values())))
    loglikelihood = float(fixed.loglikelihood)
    if not math.isclose(loglikelihood, artifact.fit.loglikelihood, rel_tol=LOGLIKELIHOOD_RTOL):
        raise ArtifactIncompatible(
            f"{where}: rebuilt log-likelihood {loglikelihood!r} is not the published {artifact.fit.loglikelihood!r} "
            "(this arch computes the model differently)"
        )
    fitted = FittedModel(
        spec=spec,
        # A fixed result has what forecasting reads (model, params); it is not re-estimated, so it has no
        # covariance or convergence flag: those come from the artifact.
        result=cast(ARCHModelResult, fixed),
        params=params,
        std_errors=dict(artifact.fit.std_errors),
        loglikelihood=artifact.fit.loglikelihood,
        aic=artifact.fit.aic,
        bic=artifact.fit.bic,
        n_obs=data.n_obs,
        converged=artifact.fit.converged,
        warnings=artifact.fit.warnings,
        fit_seconds=artifact.fit.fit_seconds,
    )
    return fitted, data


def parameter_names(model: Any) -> list[str]:
    """arch's names of a model's parameters, in the order `fix` takes them: mean, volatility, distribution."""
    return [*model.parameter_names(), *model.volatility.parameter_names(), *model.distribution.parameter_names()]
