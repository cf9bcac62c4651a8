"""The API's request and response bodies: strict types, documented bounds and enums, so the schema is the contract."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .garch.prefitted import DEFAULT_MODEL, ModelName
from .garch.spec import (
    MAX_ABS_RETURN,
    MAX_HORIZON,
    MAX_LAG,
    MAX_RETURNS,
    MIN_HORIZON,
    MIN_RETURNS,
    Distribution,
    ForecastMethod,
    Mean,
    ModelSpec,
    Volatility,
)


def _integral_number_as_int(value: object) -> object:
    """JSON Schema counts 5.0 as an integer, so it is one here too; 5.5, "5" and false are still refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


AcceptIntegralFloats = BeforeValidator(_integral_number_as_int)
Return = Annotated[float, Field(ge=-MAX_ABS_RETURN, le=MAX_ABS_RETURN, allow_inf_nan=False)]
Horizon = Annotated[
    int, Field(ge=MIN_HORIZON, le=MAX_HORIZON, description="Steps ahead to forecast."), AcceptIntegralFloats
]


class StrictModel(BaseModel):
    """Requests reject extra fields and never coerce (`false` is not a number, `"1"` is not an integer)."""

    model_config = ConfigDict(strict=True, extra="forbid")


class CustomFitRequest(StrictModel):
    returns: Annotated[
        list[Return],
        Field(
            min_length=MIN_RETURNS,
            max_length=MAX_RETURNS,
            description=f"Returns in percent, oldest first; {MIN_RETURNS}..{MAX_RETURNS} finite values "
            f"within +/-{MAX_ABS_RETURN:g}.",
        ),
    ]
    p: Annotated[
        int,
        Field(ge=1, le=MAX_LAG, description="ARCH order (lags of the squared shock)."),
        AcceptIntegralFloats,
    ] = 1
    o: Annotated[
        int,
        Field(ge=0, le=MAX_LAG, description="Asymmetric order; o > 0 with GARCH is GJR-GARCH."),
        AcceptIntegralFloats,
    ] = 0
    q: Annotated[
        int, Field(ge=0, le=MAX_LAG, description="GARCH order (lags of the variance)."), AcceptIntegralFloats
    ] = 1
    horizon: Horizon = 5
    vol: Volatility = "GARCH"
    dist: Distribution = "normal"
    mean: Mean = "constant"


class PredictQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field(default=DEFAULT_MODEL, description="A pre-fitted model from /models/list.")
    horizon: Horizon = 5


class ModelSpecOut(BaseModel):
    label: str = Field(examples=["GARCH(1,1)"])
    vol: Volatility
    p: int
    o: int
    q: int
    dist: Distribution
    mean: Mean

    @classmethod
    def of(cls, spec: ModelSpec) -> "ModelSpecOut":
        return cls(label=spec.label, vol=spec.vol, p=spec.p, o=spec.o, q=spec.q, dist=spec.dist, mean=spec.mean)


class ForecastOut(BaseModel):
    horizon: int
    method: ForecastMethod = Field(description="'simulation' where arch has no closed form (EGARCH, horizon > 1).")
    mean: list[float] = Field(description="Per-step mean return forecast, percent.")
    variance: list[float] = Field(description="Per-step conditional variance, percent squared.")
    volatility: list[float] = Field(description="Per-step daily volatility, percent.")
    annualized_volatility: list[float] = Field(description="Per-step volatility x sqrt(252), percent.")


class FitStatistics(BaseModel):
    params: dict[str, float]
    std_errors: dict[str, float | None] = Field(description="null where the covariance is singular.")
    loglikelihood: float
    aic: float
    bic: float
    n_obs: int
    converged: bool
    fit_time_ms: float


MODEL_VERSION = Field(
    description="The version of the model that answered: its published version (as /health and /models/list show "
    "it), or, for a model fitted by this service (no MODEL_STORE, or /predict/custom), 'fitted-' and 12 hex digits "
    "of the SHA-256 of its spec, parameters, training returns and code versions: the same inputs give the same one.",
    examples=["3f2a9c41d0b7", "fitted-8e41c0a2b913"],
    pattern=r"^(fitted-)?[0-9a-f]{12}$",
)


class PredictResponse(ForecastOut):
    model: ModelName
    model_version: str = MODEL_VERSION
    spec: ModelSpecOut
    origin: str = Field(description="Date of the last observation the forecast starts from (ISO 8601).")


class CustomFitResponse(FitStatistics):
    spec: ModelSpecOut
    model_version: str = MODEL_VERSION
    forecast: ForecastOut
    warnings: list[str]


class LossesOut(BaseModel):
    qlike: float = Field(description="Mean of log h + r^2/h over the held-out days; lower is better.")
    mse: float = Field(description="Mean of (r^2 - h)^2 over the held-out days; lower is better.")


class QualityGateOut(BaseModel):
    benchmark: Literal["ewma", "rolling"]
    loss: Literal["qlike"]
    margin: float = Field(description="How far below the benchmark's loss the model's had to be to publish.")
    improvement: float = Field(description="Benchmark loss minus model loss.")
    passed: bool


class EvaluationOut(BaseModel):
    """Rolling one-step-ahead variance forecasts over held-out days, scored against realized squared returns."""

    window_start: date
    window_end: date
    n_obs: int
    refit_every: int = Field(description="The model was re-estimated on the data before every block of this many days.")
    ewma_lambda: float
    rolling_window: int
    scores: dict[Literal["model", "ewma", "rolling"], LossesOut]
    gate: QualityGateOut


class ModelInfo(FitStatistics):
    name: ModelName
    spec: ModelSpecOut
    data_source: str
    data_start: str
    data_end: str
    version: str | None = Field(description="The published version served; null when fitted at start-up.")
    digest: str | None = Field(description="sha256 of the published artifact; null when fitted at start-up.")
    created_at: datetime | None = Field(description="When the published artifact was made.")
    data_sha256: str | None = Field(description="sha256 of the training returns (float64, little-endian).")
    evaluation: EvaluationOut | None = Field(
        description="Out-of-sample scores at publishing; null when fitted at start-up."
    )


class ModelList(BaseModel):
    models: list[ModelInfo]


class ServedVersion(BaseModel):
    name: ModelName
    version: str | None = Field(description="null when the model was fitted at start-up.")
    digest: str | None = None


class Health(BaseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    models_loaded: int
    uptime_s: float
    detail: str | None = None
    model_store: str | None = Field(
        default=None, description="Where the models were loaded from; null when they were fitted at start-up."
    )
    models: list[ServedVersion] = Field(default=[], description="Each served model's published version.")


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is: 'returns', 'returns.3', 'horizon', 'body', 'header'.")
    reason: str


class ErrorResponse(BaseModel):
    error: str = Field(description="A stable code, e.g. invalid_request, unprocessable_series, unauthorized.")
    message: str
    fields: list[FieldError] = []
    request_id: str | None = None
