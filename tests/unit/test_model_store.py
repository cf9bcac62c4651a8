"""Both model store backends keep the same promises: a directory, and Blob storage on a real Azurite."""

import hashlib
import stat
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient, ContainerSasPermissions, ContentSettings, generate_container_sas

from harness.pytest_plugin.azurite import ACCOUNT, ACCOUNT_KEY, Azurite
from harness.pytest_plugin.model_store import quick_artifact
from provisioning.models.training_data import sp500_returns
from provisioning.processes import free_loopback_port
from service.model_store import (
    ArtifactCorrupt,
    ModelArtifact,
    ModelNotPublished,
    ModelStore,
    StoreUnreachable,
    open_store,
)
from service.model_store.artifact import artifact_bytes, encode_artifact

UNREACHABLE_WITHIN_S = 15


@pytest.fixture(scope="module")
def garch() -> ModelArtifact:
    return quick_artifact("garch_1_1")


@pytest.fixture(scope="module")
def garch_a_day_earlier() -> ModelArtifact:
    """Another version of the same model: fitted on the series as it was one trading day before."""
    series = sp500_returns()
    return quick_artifact("garch_1_1", series.head(series.data.n_obs - 1))


StoreFactory = Callable[[], ModelStore]


@pytest.fixture(params=["directory", "blob"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory of empty stores of one backend, each as a publisher opens it (creating it)."""
    if request.param == "directory":
        return lambda: open_store(str(tmp_path / "store"), create=True)
    azurite: Azurite = request.getfixturevalue("azurite")
    url = azurite.new_container_url()
    return lambda: open_store(url, connection_string=azurite.connection_string, create=True)


def test_publish_makes_the_version_current(new_store: StoreFactory, garch: ModelArtifact) -> None:
    store = new_store()
    published_at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    pointer = store.publish(garch, at=published_at)
    current = store.current("garch_1_1")
    assert current.artifact == garch and current.digest == garch.digest() == pointer.digest
    assert (pointer.version, pointer.published_at) == (current.version, published_at)
    assert store.names() == ["garch_1_1"] and store.versions("garch_1_1") == [pointer.version]


def test_a_new_version_moves_the_pointer_and_a_promote_moves_it_back(
    new_store: StoreFactory, garch: ModelArtifact, garch_a_day_earlier: ModelArtifact
) -> None:
    store = new_store()
    first = store.publish(garch)
    second = store.publish(garch_a_day_earlier)
    assert second.version != first.version and store.current("garch_1_1").version == second.version
    assert sorted(store.versions("garch_1_1")) == sorted([first.version, second.version])
    store.promote("garch_1_1", first.version)
    assert store.current("garch_1_1").artifact == garch


def test_republishing_the_same_content_adds_no_version(new_store: StoreFactory, garch: ModelArtifact) -> None:
    store = new_store()
    assert store.publish(garch).version == store.publish(garch).version
    assert len(store.versions("garch_1_1")) == 1


def test_republishing_identical_inputs_is_a_no_op(new_store: StoreFactory, garch: ModelArtifact) -> None:
    store = new_store()
    first = store.publish(garch, at=datetime(2024, 1, 2, tzinfo=timezone.utc))
    refitted = garch.model_copy(
        update={"created_at": datetime.now(timezone.utc), "fit": garch.fit.model_copy(update={"fit_seconds": 9.9})}
    )
    again = store.publish(refitted, at=datetime(2025, 1, 2, tzinfo=timezone.utc))
    assert again == first, "the pointer is not rewritten: same version, same published_at"
    assert store.versions("garch_1_1") == [first.version]


def test_a_model_never_published_is_named_in_the_error(new_store: StoreFactory) -> None:
    store = new_store()
    with pytest.raises(ModelNotPublished, match=r"no current version of egarch_1_1 \(publish it first\)"):
        store.current("egarch_1_1")
    with pytest.raises(ModelNotPublished, match="no version 0123456789ab of egarch_1_1"):
        store.read("egarch_1_1", "0123456789ab")


@pytest.mark.parametrize("version", ["../../etc/passwd", "ABCDEF012345", "0123"])
def test_versions_are_only_digests(new_store: StoreFactory, version: str) -> None:
    with pytest.raises(ValueError, match="not a model version"):
        new_store().read("garch_1_1", version)


def test_a_pointer_to_a_replaced_artifact_is_refused(
    tmp_path: Path, garch: ModelArtifact, garch_a_day_earlier: ModelArtifact
) -> None:
    store = open_store(str(tmp_path / "store"), create=True)
    pointer = store.publish(garch)
    other = artifact_bytes(encode_artifact(garch_a_day_earlier))
    (tmp_path / "store" / "garch_1_1" / f"{pointer.version}.json").write_bytes(other)
    with pytest.raises(
        ArtifactCorrupt, match=f"holds garch_1_1 version [0-9a-f]{{12}}, not garch_1_1 {pointer.version}"
    ):
        store.current("garch_1_1")


def test_a_directory_store_is_readable_by_another_user(tmp_path: Path, garch: ModelArtifact) -> None:
    root = tmp_path / "store"
    open_store(str(root), create=True).publish(garch)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [root, *root.rglob("*")]}
    assert set(modes.values()) <= {0o755, 0o644} and len(modes) == 4, modes


def test_a_missing_directory_is_unreachable_for_a_reader(tmp_path: Path) -> None:
    with pytest.raises(StoreUnreachable, match="no such directory"):
        open_store(str(tmp_path / "not-mounted"))


def test_blob_bytes_that_do_not_match_their_content_md5_are_refused(azurite: Azurite, garch: ModelArtifact) -> None:
    url = azurite.new_container_url()
    store = open_store(url, connection_string=azurite.connection_string, create=True)
    pointer = store.publish(garch)
    blob = ContainerClient.from_connection_string(azurite.connection_string, url.rsplit("/", 1)[1]).get_blob_client(
        f"garch_1_1/{pointer.version}.json"
    )
    blob.set_http_headers(
        content_settings=ContentSettings(content_type="application/json", content_md5=hashlib.md5(b"x").digest())
    )
    with pytest.raises(ArtifactCorrupt, match="does not match its Content-MD5"):
        store.current("garch_1_1")


def test_blob_artifacts_are_never_overwritten(azurite: Azurite, garch: ModelArtifact) -> None:
    url = azurite.new_container_url()
    store = open_store(url, connection_string=azurite.connection_string, create=True)
    version = store.publish(garch).version
    with pytest.raises(Exception, match="exists and is never overwritten"):
        store._write(f"garch_1_1/{version}.json", b"{}", overwrite=False)


def test_a_blob_store_that_does_not_answer_fails_fast_and_says_so() -> None:
    nobody = Azurite(port=free_loopback_port())  # where nothing listens
    store = open_store(nobody.container_url("models"), connection_string=nobody.connection_string)
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match="does not answer"):
        store.current("garch_1_1")
    assert time.monotonic() - started < UNREACHABLE_WITHIN_S


def test_a_missing_container_and_a_wrong_key_are_unreachable(azurite: Azurite) -> None:
    url = azurite.new_container_url()
    with pytest.raises(StoreUnreachable, match="the container does not exist"):
        open_store(url, connection_string=azurite.connection_string).current("garch_1_1")
    wrong_key = azurite.connection_string.replace("AccountKey=Eby8", "AccountKey=Aby8")
    open_store(url, connection_string=azurite.connection_string, create=True)
    with pytest.raises(StoreUnreachable, match=r"access refused \(HTTP 403\)"):
        open_store(url, connection_string=wrong_key).current("garch_1_1")


def test_a_container_outside_the_connection_string_s_account_is_refused(azurite: Azurite) -> None:
    with pytest.raises(StoreUnreachable, match="not in the storage account of the connection string"):
        open_store(
            "https://garchmodelstorage.blob.core.windows.net/models", connection_string=azurite.connection_string
        )


def test_a_read_only_sas_in_the_container_url_reads_and_stays_out_of_messages(
    azurite: Azurite, garch: ModelArtifact
) -> None:
    url = azurite.new_container_url()
    open_store(url, connection_string=azurite.connection_string, create=True).publish(garch)
    container = url.rsplit("/", 1)[1]
    sas = generate_container_sas(
        ACCOUNT,
        container,
        account_key=ACCOUNT_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(timezone.utc) + timedelta(minutes=10),
    )
    reader = open_store(f"{url}?{sas}")
    assert reader.location == url and reader.current("garch_1_1").artifact == garch
    with pytest.raises(StoreUnreachable, match=r"access refused \(HTTP 403\)") as refused:
        reader.publish(garch.model_copy(update={"params": {**garch.params, "mu": garch.params["mu"] + 1e-6}}))
    assert "sig=" not in str(refused.value)
