"""A published artifact is data that rebuilds, in arch, exactly the model that was fitted, and nothing else."""

import json

import numpy as np
import pytest

from harness.pytest_plugin.model_store import quick_artifact
from provisioning.models.training_data import DatedReturns, sp500_returns
from service.garch.catalogue import BUILTIN_MODELS
from service.garch.fitting import fit, forecast
from service.garch.prefitted import ServedModel
from service.garch.rebuild import rebuild
from service.model_store import ArtifactCorrupt, ArtifactIncompatible, ModelArtifact
from service.model_store.artifact import (
    CODE_VERSIONS,
    artifact_bytes,
    content_digest,
    decode_artifact,
    digest_of,
    encode_artifact,
)

RTOL = 1e-9
SEED, SIMULATIONS = 20181231, 1000
WHERE = "test"


@pytest.fixture(scope="module")
def series() -> DatedReturns:
    return sp500_returns()


@pytest.fixture(scope="module")
def artifacts(series: DatedReturns) -> dict[str, ModelArtifact]:
    return {name: quick_artifact(name, series) for name in BUILTIN_MODELS}


def round_trip(artifact: ModelArtifact) -> ModelArtifact:
    return decode_artifact(artifact_bytes(encode_artifact(artifact)), where=WHERE).artifact


def stored_with(artifact: ModelArtifact, **changes: object) -> bytes:
    """The artifact as stored, then edited the way someone with write access to the store might."""
    document = json.loads(artifact_bytes(encode_artifact(artifact)))
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        target = document
        for key in path:
            target = target[key]
        target[last] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize("name", list(BUILTIN_MODELS))
@pytest.mark.parametrize("horizon", [1, 5, 22, 252])
def test_rebuilt_model_forecasts_what_the_fitted_model_forecasts(
    artifacts: dict[str, ModelArtifact], series: DatedReturns, name: str, horizon: int
) -> None:
    fitted = fit(series.data.returns, BUILTIN_MODELS[name])  # type: ignore[index]
    rebuilt, data = rebuild(round_trip(artifacts[name]), where=WHERE)
    expected = forecast(fitted, horizon, seed=SEED, simulations=SIMULATIONS)
    actual = forecast(rebuilt, horizon, seed=SEED, simulations=SIMULATIONS)
    assert actual.method == expected.method
    np.testing.assert_allclose(actual.variance, expected.variance, rtol=RTOL, atol=0)
    np.testing.assert_allclose(actual.mean, expected.mean, rtol=RTOL, atol=0)
    assert (data.first_date, data.last_date, data.n_obs) == (
        series.data.first_date,
        series.data.last_date,
        fitted.n_obs,
    )


def test_arch_s_own_forecast_from_fixed_parameters_is_the_fitted_result_s(
    artifacts: dict[str, ModelArtifact], series: DatedReturns
) -> None:
    fitted = fit(series.data.returns, BUILTIN_MODELS["gjr_garch_1_1_1"])
    rebuilt, _ = rebuild(round_trip(artifacts["gjr_garch_1_1_1"]), where=WHERE)
    expected = fitted.result.forecast(horizon=10).variance.to_numpy()[-1]
    np.testing.assert_allclose(rebuilt.result.forecast(horizon=10).variance.to_numpy()[-1], expected, rtol=RTOL, atol=0)


def test_a_served_model_rebuilt_from_its_artifact_carries_its_version(artifacts: dict[str, ModelArtifact]) -> None:
    stored = encode_artifact(artifacts["garch_1_1"])
    model, data = rebuild(stored.artifact, where=WHERE)
    served = ServedModel("garch_1_1", model, data, seed=SEED, simulations=SIMULATIONS, published=stored)
    assert served.published is not None and served.published.version == stored.digest[7:19]
    assert served.model.params == stored.artifact.params and served.data.last_date == "2018-12-31"


def test_the_artifact_records_what_the_issue_asks_for(
    artifacts: dict[str, ModelArtifact], series: DatedReturns
) -> None:
    artifact = artifacts["garch_1_1"]
    document = json.loads(artifact_bytes(encode_artifact(artifact)))
    assert {"spec", "params", "training_data", "arch_version", "fit", "evaluation", "created_at", "digest"} <= set(
        document
    )
    data = document["training_data"]
    assert (data["first_date"], data["last_date"], data["n_obs"]) == ("1999-01-05", "2018-12-31", series.data.n_obs)
    assert data["source"] == series.data.source and len(data["sha256"]) == 64
    assert {"loglikelihood", "aic", "bic", "converged"} <= set(document["fit"])
    assert {"model", "ewma", "rolling"} == set(document["evaluation"]["scores"])
    assert {round(v, 4) for v in artifact.params.values()} == {0.0564, 0.0175, 0.1022, 0.8852}


def test_the_digest_is_of_the_content_not_of_its_layout(artifacts: dict[str, ModelArtifact]) -> None:
    stored = encode_artifact(artifacts["garch_1_1"])
    relaid = json.dumps(json.loads(artifact_bytes(stored)), indent=4).encode()
    assert decode_artifact(relaid, where=WHERE).digest == stored.digest
    assert encode_artifact(round_trip(artifacts["garch_1_1"])).digest == stored.digest


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "not valid JSON, truncated or corrupted?"),
        (lambda data: data.replace(b'"mu": 0.0', b'"mu": 1.0'), "(modified after publishing?)"),
        (lambda data: data.replace(b'"digest": "sha256:', b'"digest": "sha256:0'), "(modified after publishing?)"),
        (lambda data: b"\xff" + data, "not valid JSON"),
        (lambda data: data.replace(b'"beta[1]": 0.', b'"beta[1]": NaN, "x": 0.'), "not valid JSON"),
        (lambda data: b"[]", "not a JSON object"),
    ],
    ids=["truncated", "tampered-parameter", "tampered-digest", "not-utf8", "nan", "not-an-object"],
)
def test_damaged_artifacts_are_refused_in_one_line(
    artifacts: dict[str, ModelArtifact], damage: object, message: str
) -> None:
    data = artifact_bytes(encode_artifact(artifacts["garch_1_1"]))
    with pytest.raises(ArtifactCorrupt) as refused:
        decode_artifact(damage(data), where="model store S: garch_1_1/x.json")  # type: ignore[operator]
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith("model store S: garch_1_1/x.json: ")


def test_an_artifact_from_another_arch_major_version_is_incompatible(artifacts: dict[str, ModelArtifact]) -> None:
    other = artifacts["garch_1_1"].model_copy(update={"arch_version": "99.0.1"})
    with pytest.raises(ArtifactIncompatible, match=r"published with arch 99\.0\.1, this service runs arch \d"):
        decode_artifact(artifact_bytes(encode_artifact(other)), where=WHERE)


def test_a_newer_artifact_schema_is_incompatible(artifacts: dict[str, ModelArtifact]) -> None:
    with pytest.raises(ArtifactIncompatible, match="artifact schema 3 is newer than this service reads"):
        decode_artifact(stored_with(artifacts["garch_1_1"], schema_version=3), where=WHERE)


def test_consistently_re_digested_training_data_must_still_hash_to_its_identity(
    artifacts: dict[str, ModelArtifact],
) -> None:
    document = json.loads(stored_with(artifacts["garch_1_1"]))
    del document["digest"]
    document["training_data"]["returns"][0] += 1.0
    document["digest"] = content_digest(document)
    with pytest.raises(ArtifactCorrupt, match=r"the stored returns do not hash to training_data\.sha256"):
        decode_artifact(json.dumps(document).encode(), where=WHERE)


def test_a_rebuild_that_does_not_reproduce_the_likelihood_is_refused(artifacts: dict[str, ModelArtifact]) -> None:
    artifact = artifacts["garch_1_1"]
    wrong = artifact.model_copy(update={"fit": artifact.fit.model_copy(update={"loglikelihood": -1.0})})
    with pytest.raises(ArtifactIncompatible, match=r"rebuilt log-likelihood .* is not the published -1\.0"):
        rebuild(wrong, where=WHERE)


def test_parameters_must_be_the_ones_arch_names(artifacts: dict[str, ModelArtifact]) -> None:
    artifact = artifacts["garch_1_1"]
    renamed = {("gamma[1]" if name == "beta[1]" else name): value for name, value in artifact.params.items()}
    with pytest.raises(ArtifactIncompatible, match=r"are not the \['mu', 'omega', 'alpha\[1\]', 'beta\[1\]'\]"):
        rebuild(artifact.model_copy(update={"params": renamed}), where=WHERE)


def test_the_version_is_the_models_content_not_when_or_how_fast_it_was_fitted(series: DatedReturns) -> None:
    first = quick_artifact("garch_1_1", series)
    again = quick_artifact("garch_1_1", series)  # fitted anew: another created_at, another fit_seconds
    assert (again.created_at, again.fit.fit_seconds) != (first.created_at, first.fit.fit_seconds)
    assert again.digest() == first.digest()
    assert first.code_versions == CODE_VERSIONS and set(CODE_VERSIONS) == {"numpy", "scipy", "garch-mlops"}
    other_numpy = first.model_copy(update={"code_versions": {**CODE_VERSIONS, "numpy": "0.0.1"}})
    other_data = quick_artifact("garch_1_1", series.head(series.data.n_obs - 1))
    other_parameter = first.model_copy(update={"params": {**first.params, "mu": first.params["mu"] + 1e-12}})
    digests = {a.digest() for a in (first, other_numpy, other_data, other_parameter)}
    assert len(digests) == 4, "code versions, data and parameters are each part of the version"


def test_a_schema_1_artifact_digested_whole_still_loads(artifacts: dict[str, ModelArtifact]) -> None:
    document = artifacts["garch_1_1"].model_dump(mode="json")
    del document["code_versions"]
    document["schema_version"] = 1
    digest = digest_of(document)  # schema 1: every field, created_at included
    loaded = decode_artifact(json.dumps({**document, "digest": digest}).encode(), where=WHERE)
    assert loaded.digest == digest and loaded.artifact.schema_version == 1 and loaded.artifact.digest() == digest
    assert decode_artifact(artifact_bytes(loaded), where=WHERE).digest == digest
