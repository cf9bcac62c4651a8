"""The `models` section of azure_config.yaml: what `--action publish` fits, how it is judged, where it goes."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from typing_extensions import Self

from provisioning.config_section import Section
from service.garch.catalogue import BUILTIN_MODELS, ModelName

ContainerName = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", min_length=3, max_length=50)]
"""Blob container rules (lower case, single hyphens), leaving room for the `-<env>` suffix within 63 characters."""


class ModelDataSection(Section):
    """What the published models are fitted and evaluated on."""

    source: Literal["sp500", "csv"] = "sp500"
    csv_path: Path | None = Field(
        default=None, description="csv: a file with a header, columns date and return (percent), one row a day."
    )

    @model_validator(mode="after")
    def _csv_needs_a_path(self) -> Self:
        if (self.source == "csv") != (self.csv_path is not None):
            raise ValueError("csv_path is required with source csv, and only then")
        return self


class ModelEvaluationSection(Section):
    """The out-of-sample quality gate a model passes before it is published."""

    holdout: int = Field(default=500, ge=50, le=5000, description="Last returns held out, one forecast a day.")
    refit_every: int = Field(default=20, ge=1, description="Re-estimate on the data before every block of days.")
    benchmark: Literal["ewma", "rolling"] = "ewma"
    ewma_lambda: float = Field(default=0.94, gt=0, lt=1)
    rolling_window: int = Field(default=250, ge=20)
    margin: float = Field(
        default=0.02, ge=0, description="The model's mean QLIKE must be at least this much below the benchmark's."
    )


StoreEnvironment = Literal["process", "local", "prod"]
StoreBackend = Literal["directory", "blob"]
DEFAULT_BACKENDS: dict[StoreEnvironment, StoreBackend] = {"process": "directory", "local": "directory", "prod": "blob"}


class ModelStoreSection(Section):
    """Where `--action publish` writes and the deployments read: a directory, or a Blob container per environment."""

    backend: dict[StoreEnvironment, StoreBackend] = Field(default_factory=DEFAULT_BACKENDS.copy)
    directory: Path = Field(default=Path(".mlops-deploy/models"), description="directory: <directory>/<env>.")
    blob_account_url: str = Field(
        default="https://garchmodelstorage.blob.core.windows.net", pattern=r"^https?://[^\s?#]+$"
    )
    container_prefix: ContainerName = Field(default="garch-models", description="blob: container <prefix>-<env>.")


class ModelsSection(Section):
    publish: tuple[ModelName, ...] = Field(default=tuple(BUILTIN_MODELS), min_length=1)
    data: ModelDataSection = ModelDataSection()
    evaluation: ModelEvaluationSection = ModelEvaluationSection()
    store: ModelStoreSection = ModelStoreSection()

    @model_validator(mode="after")
    def _each_model_once(self) -> Self:
        if len(set(self.publish)) != len(self.publish):
            raise ValueError(f"publish names a model twice: {list(self.publish)}")
        return self
