"""The pre-fitted models and how they were fitted."""

from fastapi import APIRouter

from ...schemas import ModelInfo, ModelList, ModelSpecOut
from ..deps import ReadyRegistryDep

router = APIRouter(tags=["models"])


@router.get("/models/list", response_model=ModelList)
async def list_models(registry: ReadyRegistryDep) -> ModelList:
    return ModelList(
        models=[
            ModelInfo(
                name=served.name,
                spec=ModelSpecOut.of(served.model.spec),
                params=served.model.params,
                std_errors=served.model.std_errors,
                loglikelihood=served.model.loglikelihood,
                aic=served.model.aic,
                bic=served.model.bic,
                n_obs=served.model.n_obs,
                converged=served.model.converged,
                fit_time_ms=round(served.model.fit_seconds * 1000, 3),
                data_source=served.data.source,
                data_start=served.data.first_date,
                data_end=served.data.last_date,
            )
            for served in registry.models.values()
        ]
    )
