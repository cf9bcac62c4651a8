"""The service serves exactly the store's current versions, or none at all: never half a set, never unnoticed."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from harness.pytest_plugin.azurite import Azurite
from harness.pytest_plugin.model_store import quick_artifact
from provisioning.processes import free_loopback_port
from provisioning.waiting import wait_until
from service.config import Settings
from service.garch.catalogue import BUILTIN_MODELS
from service.garch.fitting import fit, forecast
from service.garch.model_version import fitted_version
from service.garch.prefitted import load_sp500_returns
from service.garch.rebuild import rebuild
from service.main import create_app
from service.model_store import ModelArtifact, open_store

RTOL = 1e-9
ClientFactory = Callable[..., TestClient]
SETTLE_DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def artifacts() -> dict[str, ModelArtifact]:
    return {name: quick_artifact(name) for name in BUILTIN_MODELS}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, artifacts: dict[str, ModelArtifact]) -> Path:
    """A directory store with every served model published; tests that damage it work on a copy."""
    root = tmp_path_factory.mktemp("published") / "store"
    store = open_store(str(root), create=True)
    for artifact in artifacts.values():
        store.publish(artifact)
    return root


def settled(client: TestClient) -> dict[str, object]:
    """/health once loading has finished, either way."""

    def loaded_or_failed() -> dict[str, object] | None:
        body: dict[str, object] = client.get("/health").json()
        return body if body["status"] == "healthy" or body["detail"] != "loading models" else None

    return wait_until(
        loaded_or_failed, what="models loaded or failed", where="/health", timeout_s=SETTLE_DEADLINE_S, interval_s=0.02
    )


def test_health_and_list_report_the_current_version_of_every_model(make_client: ClientFactory, published: Path) -> None:
    client = make_client(model_store=str(published))
    store = open_store(str(published))
    health = client.get("/health").json()
    assert health["model_store"] == str(published)
    current = {name: store.current(name) for name in BUILTIN_MODELS}
    assert {m["name"]: (m["version"], m["digest"]) for m in health["models"]} == {
        name: (stored.version, stored.digest) for name, stored in current.items()
    }
    listed = {m["name"]: m for m in client.get("/models/list").json()["models"]}
    for name, stored in current.items():
        model = listed[name]
        assert (model["version"], model["digest"]) == (stored.version, stored.digest)
        assert (
            model["params"] == stored.artifact.params and model["data_sha256"] == stored.artifact.training_data.sha256
        )
        scores = model["evaluation"]["scores"]
        assert scores["ewma"]["qlike"] == stored.artifact.evaluation.scores["ewma"].qlike
        assert model["evaluation"]["gate"]["passed"] is True


@pytest.mark.parametrize("name", list(BUILTIN_MODELS))
def test_predict_serves_the_rebuilt_model_s_forecasts(
    make_client: ClientFactory, published: Path, artifacts: dict[str, ModelArtifact], name: str
) -> None:
    client = make_client(model_store=str(published))
    rebuilt, data = rebuild(artifacts[name], where="test")
    version = open_store(str(published)).current(name).version
    for horizon in (1, 7):
        body = client.get("/predict", params={"model": name, "horizon": horizon}).json()
        assert body["model_version"] == version, "an answer names the published version that produced it"
        expected = forecast(rebuilt, horizon, seed=Settings().simulation_seed, simulations=Settings().simulations)
        np.testing.assert_allclose(body["variance"], expected.variance, rtol=RTOL, atol=0)
        assert body["origin"] == data.last_date


def test_without_a_store_the_built_in_models_are_fitted_and_have_no_version(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["model_store"] is None
    assert [m["version"] for m in health["models"]] == [None] * len(BUILTIN_MODELS)
    assert all(m["evaluation"] is None for m in client.get("/models/list").json()["models"])
    versions = {name: client.get("/predict", params={"model": name}).json()["model_version"] for name in BUILTIN_MODELS}
    assert all(re.fullmatch(r"fitted-[0-9a-f]{12}", v) for v in versions.values()) and len(set(versions.values())) == 3
    sp500, spec = load_sp500_returns(), BUILTIN_MODELS["garch_1_1"]
    assert versions["garch_1_1"] == fitted_version(spec, fit(sp500.returns, spec).params, sp500.returns)


Damage = Callable[[Path], None]


def _edit(path: Path, edit: Callable[[dict[str, object]], None]) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _current_file(root: Path, name: str) -> Path:
    version = json.loads((root / name / "current.json").read_text())["version"]
    return root / name / f"{version}.json"


DAMAGES: dict[str, tuple[str, Damage, str]] = {
    "truncated": (
        "egarch_1_1",
        lambda root: _current_file(root, "egarch_1_1").write_bytes(
            _current_file(root, "egarch_1_1").read_bytes()[:999]
        ),
        "ArtifactCorrupt: model store {root}: egarch_1_1/{version}.json: not valid JSON, truncated or corrupted?",
    ),
    "tampered": (
        "garch_1_1",
        lambda root: _edit(_current_file(root, "garch_1_1"), lambda d: d["params"].update({"omega": 0.02})),
        "ArtifactCorrupt: model store {root}: garch_1_1/{version}.json: content hashes to sha256:",
    ),
    "corrupt-pointer": (
        "gjr_garch_1_1_1",
        lambda root: (root / "gjr_garch_1_1_1" / "current.json").write_text('{"name": "gjr_garch_1_1_1"'),
        "ArtifactCorrupt: model store {root}: gjr_garch_1_1_1/current.json: not valid JSON",
    ),
    "missing-model": (
        "egarch_1_1",
        lambda root: shutil.rmtree(root / "egarch_1_1"),
        "ModelNotPublished: model store {root}: no current version of egarch_1_1 (publish it first)",
    ),
    "unmounted": (
        "garch_1_1",
        lambda root: shutil.rmtree(root),
        "StoreUnreachable: model store {root}: no such directory (wrong MODEL_STORE, or not mounted?)",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_store_keeps_the_service_unready_with_the_reason(
    published: Path, tmp_path: Path, damage: str
) -> None:
    root = tmp_path / "store"
    shutil.copytree(published, root)
    version = {name: json.loads((root / name / "current.json").read_text())["version"] for name in BUILTIN_MODELS}
    name, damage_store, expected = DAMAGES[damage]
    damage_store(root)
    with TestClient(create_app(Settings(model_store=str(root)))) as client:
        health = settled(client)
        assert health["status"] == "unhealthy" and health["models_loaded"] == 0 and health["models"] == []
        reason = f"model loading failed: {expected.format(root=root, version=version[name])}"
        assert str(health["detail"]).startswith(reason), health["detail"]
        assert "\n" not in str(health["detail"])
        assert client.get("/health").status_code == 503
        assert client.get("/predict").status_code == 503 and client.get("/models/list").status_code == 503


def test_an_artifact_from_another_arch_major_version_keeps_the_service_unready(
    artifacts: dict[str, ModelArtifact], tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    for name, artifact in artifacts.items():
        store.publish(artifact.model_copy(update={"arch_version": "7.2.0"}) if name == "garch_1_1" else artifact)
    with TestClient(create_app(Settings(model_store=str(tmp_path / "store")))) as client:
        health = settled(client)
    assert health["status"] == "unhealthy"
    assert "ArtifactIncompatible" in str(health["detail"]) and "published with arch 7.2.0" in str(health["detail"])


def test_an_artifact_under_another_model_s_name_keeps_the_service_unready(
    artifacts: dict[str, ModelArtifact], tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    for name, artifact in artifacts.items():
        impostor = artifacts["egarch_1_1"] if name == "garch_1_1" else artifact
        store.publish(impostor.model_copy(update={"name": name}))
    with TestClient(create_app(Settings(model_store=str(tmp_path / "store")))) as client:
        health = settled(client)
    assert "is a EGARCH(1,1) (normal, constant mean), the API serves garch_1_1 as GARCH(1,1)" in str(health["detail"])


def test_the_service_loads_from_blob_storage(
    make_client: ClientFactory, azurite: Azurite, artifacts: dict[str, ModelArtifact]
) -> None:
    url = azurite.new_container_url()
    store = open_store(url, connection_string=azurite.connection_string, create=True)
    versions = {name: store.publish(artifact).version for name, artifact in artifacts.items()}
    client = make_client(model_store=url, model_store_connection_string=azurite.connection_string)
    health = client.get("/health").json()
    assert health["model_store"] == url and {m["name"]: m["version"] for m in health["models"]} == versions


def test_a_blob_store_that_does_not_answer_keeps_the_service_unready() -> None:
    nobody = Azurite(port=free_loopback_port())
    settings = Settings(
        model_store=nobody.container_url("models"), model_store_connection_string=nobody.connection_string
    )
    with TestClient(create_app(settings)) as client:
        health = settled(client)
    assert health["status"] == "unhealthy"
    assert str(health["detail"]).startswith(
        f"model loading failed: StoreUnreachable: model store {nobody.container_url('models')}: does not answer"
    )
