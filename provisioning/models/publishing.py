"""Fit, evaluate out of sample, and publish what beats the benchmark: the `publish` step of the model pipeline.

The published model is fitted on all the data; its evaluation re-estimates it on the data before the held-out
window (and before every `refit_every` days within it), so the scores are out of sample, and the artifact records
both. A model that does not beat the benchmark's QLIKE by the configured margin is not published.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from provisioning.config_models import ModelEvaluationSection
from provisioning.models.training_data import DatedReturns
from service.garch.catalogue import BUILTIN_MODELS, ModelName
from service.garch.evaluation import out_of_sample
from service.garch.fitting import fit
from service.garch.spec import ModelSpec
from service.model_store import ModelStore, Pointer
from service.model_store.artifact import (
    ARCH_VERSION,
    CODE_VERSIONS,
    EvaluationRecord,
    FitRecord,
    GateRecord,
    LossRecord,
    ModelArtifact,
    SpecRecord,
    TrainingDataRecord,
    returns_sha256,
)


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """A candidate and where it went: its pointer if published, None if the quality gate refused it."""

    artifact: ModelArtifact
    pointer: Pointer | None

    @property
    def refused(self) -> bool:
        return self.pointer is None

    def reason(self) -> str:
        gate = self.artifact.evaluation.gate
        scores = self.artifact.evaluation.scores
        return (
            f"{self.artifact.name}: QLIKE {scores['model'].qlike:.4f} is not below {gate.benchmark}'s "
            f"{scores[gate.benchmark].qlike:.4f} by the margin {gate.margin:g} (improvement {gate.improvement:+.4f})"
        )


def build_artifact(
    name: str,
    spec: ModelSpec,
    series: DatedReturns,
    evaluation: ModelEvaluationSection,
    *,
    created_at: datetime | None = None,
) -> ModelArtifact:
    """The candidate artifact: the fit on all the data, and its out-of-sample scores and gate verdict."""
    returns = series.data.returns
    fitted = fit(returns, spec)
    window = out_of_sample(
        returns, spec, holdout=evaluation.holdout, refit_every=evaluation.refit_every,
        ewma_decay=evaluation.ewma_lambda, rolling_window=evaluation.rolling_window,
    )  # fmt: skip
    losses = window.losses()
    improvement = losses[evaluation.benchmark].qlike - losses["model"].qlike
    return ModelArtifact(
        name=name,
        spec=SpecRecord.of(spec),
        params=fitted.params,
        training_data=TrainingDataRecord(
            source=series.data.source,
            first_date=series.dates[0],
            last_date=series.dates[-1],
            n_obs=series.data.n_obs,
            sha256=returns_sha256(returns),
            returns=returns.tolist(),
        ),
        fit=FitRecord(
            loglikelihood=fitted.loglikelihood,
            aic=fitted.aic,
            bic=fitted.bic,
            converged=fitted.converged,
            std_errors=fitted.std_errors,
            fit_seconds=fitted.fit_seconds,
            warnings=fitted.warnings,
        ),
        evaluation=EvaluationRecord(
            first_date=series.dates[window.start],
            last_date=series.dates[-1],
            n_obs=evaluation.holdout,
            refit_every=evaluation.refit_every,
            ewma_lambda=evaluation.ewma_lambda,
            rolling_window=evaluation.rolling_window,
            scores={name: LossRecord(qlike=loss.qlike, mse=loss.mse) for name, loss in losses.items()},
            gate=GateRecord(
                benchmark=evaluation.benchmark,
                margin=evaluation.margin,
                improvement=improvement,
                passed=improvement > evaluation.margin,
            ),
        ),
        arch_version=ARCH_VERSION,
        code_versions=CODE_VERSIONS,
        created_at=created_at or datetime.now(timezone.utc),
    )


def publish_models(
    names: Iterable[ModelName], store: ModelStore, series: DatedReturns, evaluation: ModelEvaluationSection
) -> list[PublishOutcome]:
    """Every named model evaluated; those that pass the gate published (each its own pointer, each on its own)."""
    outcomes = []
    for name in names:
        artifact = build_artifact(name, BUILTIN_MODELS[name], series, evaluation)
        pointer = store.publish(artifact) if artifact.evaluation.gate.passed else None
        outcomes.append(PublishOutcome(artifact, pointer))
    return outcomes
