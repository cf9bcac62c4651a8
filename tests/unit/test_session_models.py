"""A session started by a test serves the models its outer session fitted, copied into a store of its own, and
fits them itself whenever they would not be the same: other data, another evaluation, or no complete outer store."""

import json
import os
from pathlib import Path

import pytest

from harness.pytest_plugin import model_store
from harness.pytest_plugin.model_store import (
    SESSION_MODELS_VARIABLE,
    SOURCE_FILE,
    publish_session_models,
    quick_artifact,
)
from provisioning.config import ProjectConfig, load_config
from provisioning.config_models import ModelDataSection
from service.garch.catalogue import BUILTIN_MODELS
from service.model_store import ModelStore, open_store

pytestmark = pytest.mark.unit

CONFIG = Path(__file__).resolve().parents[2] / "azure_config.yaml"


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stores fitted into. The fit itself is the quick one of the unit tests: what is proved here is which
    sessions fit and what the others copy, not the fit."""
    fitted: list[str] = []

    def quick_fit(store: ModelStore, project: ProjectConfig) -> None:
        fitted.append(store.location)
        for name in BUILTIN_MODELS:
            store.publish(quick_artifact(name))

    monkeypatch.setattr(model_store, "fit_and_publish", quick_fit)
    monkeypatch.delenv(SESSION_MODELS_VARIABLE, raising=False)  # restored (absent) after the test
    return fitted


def versions(location: str) -> dict[str, str]:
    store = open_store(location)
    return {name: store.current(name).version for name in BUILTIN_MODELS}


def test_a_nested_session_copies_the_versions_its_outer_session_fitted(fits: list[str], tmp_path: Path) -> None:
    project = load_config(CONFIG)
    outer = publish_session_models(tmp_path / "outer", project)["MODEL_STORE"]
    fitted = versions(outer)
    # A test of the outer session publishes another version there: the nested session still gets the fitted one.
    fitted_then = open_store(outer).current("garch_1_1").artifact
    refitted = {name: value * 1.01 for name, value in fitted_then.params.items()}
    open_store(outer).publish(fitted_then.model_copy(update={"params": refitted}))
    assert versions(outer)["garch_1_1"] != fitted["garch_1_1"]

    nested = publish_session_models(tmp_path / "nested", project)["MODEL_STORE"]

    assert fits == [outer], "the nested session fitted again"
    assert nested != outer and versions(nested) == fitted
    assert os.environ[SESSION_MODELS_VARIABLE] == nested, "the nested session names its own store to its own"


def with_models(project: ProjectConfig, **update: object) -> ProjectConfig:
    return project.model_copy(update={"models": project.models.model_copy(update=update)})


@pytest.mark.parametrize("change", ["evaluation", "data", "the CSV's content"])
def test_models_from_another_source_are_fitted_again(change: str, fits: list[str], tmp_path: Path) -> None:
    csv = tmp_path / "returns.csv"
    csv.write_text("date,return\n2024-01-02,0.5\n")
    configured = load_config(CONFIG)
    from_csv = with_models(configured, data=ModelDataSection(source="csv", csv_path=csv))
    outer = publish_session_models(tmp_path / "outer", from_csv if change != "data" else configured)["MODEL_STORE"]
    if change == "evaluation":
        evaluation = from_csv.models.evaluation
        nested_project = with_models(
            from_csv, evaluation=evaluation.model_copy(update={"margin": evaluation.margin + 0.01})
        )
    else:
        if change == "the CSV's content":
            csv.write_text("date,return\n2024-01-02,0.6\n")  # the same path, other data
        nested_project = from_csv

    nested = publish_session_models(tmp_path / "nested", nested_project)["MODEL_STORE"]

    assert fits == [outer, nested]


def test_an_outer_store_without_its_record_is_not_copied(fits: list[str], tmp_path: Path) -> None:
    """The record is written after every model is published: without it the store may be half done."""
    project = load_config(CONFIG)
    outer = publish_session_models(tmp_path / "outer", project)["MODEL_STORE"]
    (tmp_path / "outer" / SOURCE_FILE).unlink()

    nested = publish_session_models(tmp_path / "nested", project)["MODEL_STORE"]

    assert fits == [outer, nested]
    assert json.loads((tmp_path / "nested" / SOURCE_FILE).read_text())["published"] == versions(nested)
