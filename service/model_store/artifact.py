"""A published model as data, not code: JSON with everything needed to rebuild it in arch and to judge it.

The digest is the SHA-256 of the artifact's canonical JSON (sorted keys, no spaces) without when and how fast it
was fitted (`created_at`, `fit.fit_seconds`), so it changes with any byte of content and not with formatting or the
clock: publishing the same spec on the same data with the same code gives the same version. Its first 12 hex digits
are the version. The training returns travel inside the artifact: arch rebuilds the model from them and the
parameters, and the forecasts start from their last day. (Schema 1 artifacts were digested whole; they still load.)
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from importlib.metadata import version
from typing import Any, Literal

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import Self

from .. import __version__
from ..garch.spec import Distribution, Mean, ModelSpec, Volatility
from .errors import ArtifactCorrupt, ArtifactIncompatible

SCHEMA_VERSION: Literal[2] = 2
ARCH_VERSION = version("arch")
"""The arch this process computes with (read from its metadata: importing arch is slow, and not needed here)."""
CODE_VERSIONS = {"numpy": version("numpy"), "scipy": version("scipy"), "garch-mlops": __version__}
"""Besides arch, the code a fit depends on: numpy and scipy (arch's optimizer), and this project (its fitting)."""
VOLATILE = (("created_at",), ("fit", "fit_seconds"))
"""When and how fast a model was fitted: recorded, but not part of what the model is (schema 2 on)."""
VERSION_LENGTH = 12
MODEL_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"

Forecaster = Literal["model", "ewma", "rolling"]
Benchmark = Literal["ewma", "rolling"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SpecRecord(Record):
    vol: Volatility
    p: int
    o: int
    q: int
    dist: Distribution
    mean: Mean

    @classmethod
    def of(cls, spec: ModelSpec) -> "SpecRecord":
        return cls(vol=spec.vol, p=spec.p, o=spec.o, q=spec.q, dist=spec.dist, mean=spec.mean)

    def to_spec(self) -> ModelSpec:
        return ModelSpec(vol=self.vol, p=self.p, o=self.o, q=self.q, dist=self.dist, mean=self.mean)


def returns_sha256(returns: Sequence[float] | np.ndarray) -> str:
    """The hash of a return series: its float64 values, little-endian, in order."""
    return hashlib.sha256(np.ascontiguousarray(returns, dtype="<f8").tobytes()).hexdigest()


class TrainingDataRecord(Record):
    source: str = Field(min_length=1, description="Where the returns came from and how they were computed.")
    first_date: date
    last_date: date
    n_obs: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="returns_sha256 of `returns`.")
    returns: list[float] = Field(repr=False, description="The returns the model was fitted on, percent, oldest first.")

    @model_validator(mode="after")
    def _identity_matches_the_returns(self) -> Self:
        if len(self.returns) != self.n_obs:
            raise ValueError(f"n_obs is {self.n_obs} but {len(self.returns)} returns are stored")
        if returns_sha256(self.returns) != self.sha256:
            raise ValueError("the stored returns do not hash to training_data.sha256")
        if self.first_date > self.last_date:
            raise ValueError(f"first_date {self.first_date} is after last_date {self.last_date}")
        return self


class FitRecord(Record):
    loglikelihood: float
    aic: float
    bic: float
    converged: bool
    std_errors: dict[str, float | None]
    fit_seconds: float = Field(ge=0)
    warnings: tuple[str, ...] = ()


class LossRecord(Record):
    qlike: float = Field(description="Mean of log h + r^2/h over the held-out days; lower is better.")
    mse: float = Field(ge=0, description="Mean of (r^2 - h)^2 over the held-out days; lower is better.")


class GateRecord(Record):
    benchmark: Benchmark
    loss: Literal["qlike"] = "qlike"
    margin: float = Field(ge=0, description="How far below the benchmark's loss the model's had to be.")
    improvement: float = Field(description="Benchmark loss minus model loss.")
    passed: bool


class EvaluationRecord(Record):
    first_date: date
    last_date: date
    n_obs: int = Field(ge=1)
    refit_every: int = Field(ge=1)
    ewma_lambda: float = Field(gt=0, lt=1)
    rolling_window: int = Field(ge=2)
    scores: dict[Forecaster, LossRecord]
    gate: GateRecord


class ModelArtifact(Record):
    schema_version: Literal[1, 2] = SCHEMA_VERSION
    name: str = Field(pattern=MODEL_NAME_PATTERN)
    spec: SpecRecord
    params: dict[str, float] = Field(min_length=1, description="arch's parameter names and estimates.")
    training_data: TrainingDataRecord
    fit: FitRecord
    evaluation: EvaluationRecord
    arch_version: str = Field(pattern=r"^\d+\.\d+")
    code_versions: dict[str, str] = Field(
        default_factory=dict, description="numpy, scipy and garch-mlops versions of the fit (empty in schema 1)."
    )
    created_at: AwareDatetime

    def digest(self) -> str:
        return content_digest(self.document())

    def document(self) -> dict[str, Any]:
        """The artifact as JSON data, in the shape of its schema version (schema 1 had no code_versions)."""
        return self.model_dump(mode="json", exclude={"code_versions"} if self.schema_version == 1 else None)


class StoredArtifact(BaseModel):
    """An artifact with the digest it was published under."""

    model_config = ConfigDict(frozen=True)

    artifact: ModelArtifact
    digest: str = Field(pattern=DIGEST_PATTERN)

    @property
    def version(self) -> str:
        return version_of(self.digest)


class Pointer(Record):
    """Which version of a model is current: the one thing that changes when a model is published."""

    name: str = Field(pattern=MODEL_NAME_PATTERN)
    version: str = Field(pattern=rf"^[0-9a-f]{{{VERSION_LENGTH}}}$")
    digest: str = Field(pattern=DIGEST_PATTERN)
    published_at: AwareDatetime

    @model_validator(mode="after")
    def _version_is_the_digest_s(self) -> Self:
        if version_of(self.digest) != self.version:
            raise ValueError(f"version {self.version} is not the start of digest {self.digest}")
        return self


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def digest_of(document: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(document)).hexdigest()


def content_digest(document: dict[str, Any]) -> str:
    """The digest of an artifact document: everything but the VOLATILE fields (schema 1: everything)."""
    if document.get("schema_version") == 1:
        return digest_of(document)
    content = {**document, "fit": dict(document.get("fit") or {})}
    for *parents, leaf in VOLATILE:
        target = content
        for parent in parents:
            target = target[parent]
        target.pop(leaf, None)
    return digest_of(content)


def version_of(digest: str) -> str:
    return digest.removeprefix("sha256:")[:VERSION_LENGTH]


def encode_artifact(artifact: ModelArtifact) -> StoredArtifact:
    """The artifact with its digest, ready to write (see `artifact_bytes`)."""
    return StoredArtifact(artifact=artifact, digest=artifact.digest())


def artifact_bytes(stored: StoredArtifact) -> bytes:
    """The stored form: the artifact's fields and its digest, indented for people (the digest ignores layout)."""
    document = {**stored.artifact.document(), "digest": stored.digest}
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False).encode()


def decode_artifact(data: bytes, *, where: str) -> StoredArtifact:
    """Parse and verify stored bytes: readable, not modified since publishing, on schema, servable by this arch."""
    document = _json_object(data, where)
    schema = document.get("schema_version")
    if isinstance(schema, int) and schema > SCHEMA_VERSION:
        raise ArtifactIncompatible(
            f"{where}: artifact schema {schema} is newer than this service reads ({SCHEMA_VERSION})"
        )
    recorded = document.pop("digest", None)
    if not isinstance(recorded, str):
        raise ArtifactCorrupt(f"{where}: no digest recorded in the artifact")
    actual = content_digest(document)
    if actual != recorded:
        raise ArtifactCorrupt(
            f"{where}: content hashes to {actual}, not its recorded {recorded} (modified after publishing?)"
        )
    try:
        artifact = ModelArtifact.model_validate(document)
    except ValidationError as error:
        raise ArtifactCorrupt(f"{where}: not a valid model artifact: {_first_problem(error)}") from None
    check_arch_version(artifact.arch_version, where=where)
    return StoredArtifact(artifact=artifact, digest=recorded)


def decode_pointer(data: bytes, *, where: str) -> Pointer:
    try:
        return Pointer.model_validate(_json_object(data, where))
    except ValidationError as error:
        raise ArtifactCorrupt(f"{where}: not a valid version pointer: {_first_problem(error)}") from None


def pointer_bytes(pointer: Pointer) -> bytes:
    return json.dumps(pointer.model_dump(mode="json"), sort_keys=True, indent=1).encode()


def check_arch_version(published_with: str, *, where: str, running: str = ARCH_VERSION) -> None:
    """Parameters mean the same within an arch major version; across one, recursions and defaults may differ."""
    if published_with.split(".")[0] != running.split(".")[0]:
        raise ArtifactIncompatible(
            f"{where}: published with arch {published_with}, this service runs arch {running} "
            "(another major version: republish with this arch)"
        )


def _json_object(data: bytes, where: str) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_refuse_non_finite)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ArtifactCorrupt(f"{where}: not valid JSON, truncated or corrupted? ({error})") from None
    if not isinstance(document, dict):
        raise ArtifactCorrupt(f"{where}: not a JSON object")
    return document


def _refuse_non_finite(constant: str) -> float:
    raise ValueError(f"{constant} is not a finite number")


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "document"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{location}: {first['msg']}{more}"
