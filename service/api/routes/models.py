"""The pre-fitted models: how they were fitted, which published version each is, and how it scored."""

from fastapi import APIRouter

from ...garch.prefitted import ServedModel
from ...model_store.artifact import EvaluationRecord
from ...schemas import EvaluationOut, LossesOut, ModelInfo, ModelList, ModelSpecOut, QualityGateOut
from ..deps import ReadyRegistryDep

router = APIRouter(tags=["models"])


@router.get("/models/list", response_model=ModelList)
async def list_models(registry: ReadyRegistryDep) -> ModelList:
    return ModelList(models=[model_info(served) for served in registry.models.values()])


def model_info(served: ServedModel) -> ModelInfo:
    published = served.published
    artifact = published.artifact if published else None
    return ModelInfo(
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
        version=published.version if published else None,
        digest=published.digest if published else None,
        created_at=artifact.created_at if artifact else None,
        data_sha256=artifact.training_data.sha256 if artifact else None,
        evaluation=evaluation_out(artifact.evaluation) if artifact else None,
    )


def evaluation_out(record: EvaluationRecord) -> EvaluationOut:
    return EvaluationOut(
        window_start=record.first_date,
        window_end=record.last_date,
        n_obs=record.n_obs,
        refit_every=record.refit_every,
        ewma_lambda=record.ewma_lambda,
        rolling_window=record.rolling_window,
        scores={name: LossesOut(qlike=loss.qlike, mse=loss.mse) for name, loss in record.scores.items()},
        gate=QualityGateOut(**record.gate.model_dump()),
    )
