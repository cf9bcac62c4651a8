"""`mlops-deploy --action publish` and `--action models`: the quality gate decides, the store records."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from harness.pytest_plugin.azurite import Azurite
from provisioning.cli import main, service_env
from provisioning.config import ConfigError, load_config
from provisioning.config_models import ModelEvaluationSection, ModelStoreSection
from provisioning.models.publishing import publish_models
from provisioning.models.stores import serving_env, store_location
from provisioning.models.training_data import TrainingDataError, csv_returns, sp500_returns
from service.garch.catalogue import BUILTIN_MODELS
from service.garch.prefitted import load_sp500_returns
from service.model_store import open_store
from service.model_store.artifact import returns_sha256

QUICK_MODELS = {"evaluation": {"refit_every": 500}}


def write_config(directory: Path, models: dict[str, object]) -> Path:
    path = directory / "azure_config.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


def test_sp500_training_data_is_what_the_service_fits_by_default() -> None:
    series, served = sp500_returns(), load_sp500_returns()
    assert returns_sha256(series.data.returns) == returns_sha256(served.returns)
    assert (series.data.source, series.data.first_date, series.data.last_date) == (
        served.source,
        served.first_date,
        served.last_date,
    )
    assert len(series.dates) == served.n_obs and series.dates[-1].isoformat() == "2018-12-31"


def test_a_model_that_does_not_beat_the_benchmark_by_the_margin_is_not_published(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    strict = ModelEvaluationSection(refit_every=500, margin=0.5)
    [outcome] = publish_models(["garch_1_1"], store, sp500_returns(), strict)
    assert outcome.refused and store.names() == []
    assert (
        outcome.reason().startswith("garch_1_1: QLIKE 0.1")
        and "by the margin 0.5 (improvement +0.07" in outcome.reason()
    )


def test_publish_then_models_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, {**QUICK_MODELS, "publish": ["garch_1_1", "egarch_1_1"]})
    assert main(["--action", "publish", "--env", "local", "--config", str(config)]) == 0
    published = capsys.readouterr().out
    store = open_store(str(tmp_path / ".mlops-deploy" / "models" / "local"))
    assert store.names() == ["egarch_1_1", "garch_1_1"]
    assert f"| garch_1_1 | GARCH(1,1) | {store.current('garch_1_1').version} |" in published
    assert main(["--action", "models", "--env", "local", "--config", str(config)]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"model store {store.location}\n| model |") and "1 version(s)" in listed


def test_a_refused_model_fails_publish_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(
        tmp_path, {"publish": ["garch_1_1", "egarch_1_1"], "evaluation": {"refit_every": 500, "margin": 0.5}}
    )
    assert main(["--action", "publish", "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("mlops-deploy: not published: garch_1_1: QLIKE ")
    assert captured.err.strip().endswith("(and 1 more)") and captured.err.count("\n") == 1
    assert "REFUSED" in captured.out


def test_models_on_a_store_never_published_to_says_to_publish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--action", "models", "--config", str(write_config(tmp_path, {}))]) == 0
    assert capsys.readouterr().out == (
        f"model store {tmp_path}/.mlops-deploy/models/process\n"
        "no models published: run --action publish --env process\n"
    )
    (tmp_path / ".mlops-deploy" / "models" / "local").mkdir(parents=True)  # created, nothing published yet
    assert main(["--action", "models", "--env", "local", "--config", str(tmp_path / "azure_config.yaml")]) == 0
    assert capsys.readouterr().out.endswith("\nno models published: run --action publish --env local\n")


def test_a_deployment_serves_from_the_store_only_once_it_holds_every_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(write_config(tmp_path, QUICK_MODELS))
    assert "MODEL_STORE" not in service_env(config, "process")
    store = open_store(store_location(config.models.store, "process"), create=True)
    evaluation = config.models.evaluation
    publish_models(["garch_1_1", "gjr_garch_1_1_1"], store, sp500_returns(), evaluation)
    assert "MODEL_STORE" not in service_env(config, "process")
    publish_models(["egarch_1_1"], store, sp500_returns(), evaluation)
    assert service_env(config, "process")["MODEL_STORE"] == str(tmp_path / ".mlops-deploy" / "models" / "process")
    assert "MODEL_STORE" not in service_env(config, "prod") and "MODEL_STORE" not in service_env(config)


def test_publish_to_blob_storage_and_serve_with_its_connection_string(azurite: Azurite) -> None:
    section = ModelStoreSection(backend={"process": "blob"}, blob_account_url=azurite.blob_endpoint)
    location = store_location(section, "process")
    assert location == azurite.container_url("garch-models-process")
    store = open_store(location, connection_string=azurite.connection_string, create=True)
    publish_models(BUILTIN_MODELS, store, sp500_returns(), ModelEvaluationSection(refit_every=500))
    assert serving_env(section, "process", azurite.connection_string) == {
        "MODEL_STORE": location,
        "MODEL_STORE_CONNECTION_STRING": azurite.connection_string,
    }


def test_a_csv_of_dates_and_returns_is_training_data(tmp_path: Path) -> None:
    series = sp500_returns()
    path = tmp_path / "returns.csv"
    rows = [
        f"{day.isoformat()},{value!r}" for day, value in zip(series.dates, series.data.returns.tolist(), strict=True)
    ]
    path.write_text("Date,Return\n" + "\n".join(rows) + "\n")
    loaded = csv_returns(path)
    assert loaded.data.source == "csv returns.csv" and loaded.dates == series.dates
    np.testing.assert_array_equal(loaded.data.returns, series.data.returns)
    store = open_store(str(tmp_path / "store"), create=True)
    [outcome] = publish_models(["garch_1_1"], store, loaded, ModelEvaluationSection(holdout=250, refit_every=250))
    artifact = store.current("garch_1_1").artifact
    assert not outcome.refused and artifact.training_data.last_date == series.dates[-1]
    assert artifact.evaluation.first_date == series.dates[-250]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("day,value\n2020-01-01,1.0\n", "needs columns date and return"),
        ("date,return\n2020-01-02,1.0\n2020-01-01,1.0\n", "strictly increasing"),
        ("date,return\n2020-01-01,1.0\n2020-01-02,nan\n", "row 3: return nan is not a finite percentage"),
        ("date,return\n2020-01-01,1.0\n", "1 returns, a model needs at least 100"),
    ],
)
def test_a_bad_csv_is_refused_with_the_row(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "returns.csv"
    path.write_text(content)
    with pytest.raises(TrainingDataError, match=message):
        csv_returns(path)


def test_the_models_section_rejects_what_it_does_not_know(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.data: csv_path is required with source csv"):
        load_config(write_config(tmp_path, {"data": {"source": "csv"}}))
    with pytest.raises(ConfigError, match=r"models.publish.0: Input should be 'garch_1_1'"):
        load_config(write_config(tmp_path, {"publish": ["arima"]}))
    with pytest.raises(ConfigError, match=r"models\.store\.container_prefix: String should match pattern"):
        load_config(write_config(tmp_path, {"store": {"container_prefix": "Models_"}}))
