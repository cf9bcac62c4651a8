"""azure_config.yaml loads into one typed object; bad keys, types and ranges fail with one line naming the key."""

from pathlib import Path

import pytest

from provisioning.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "azure_config.yaml").read_text()
    assert old in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_shipped_files_load_and_agree() -> None:
    shipped, example = load_config(ROOT / "azure_config.yaml"), load_config(ROOT / "azure_config.example.yaml")
    assert shipped.testing.load.users == 10 and shipped.testing.load.duration_s == 60
    assert shipped.deployment.port == 8001
    assert set(shipped.model_dump()) == set(example.model_dump())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  cpu: 1.0", "  cpu: 1.0\n  gpus: 2", "deployment.gpus: unknown key"),
        ("  cpu: 1.0", "  cpu: lots", "deployment.cpu: Input should be a valid number"),
        ("    users: 10", "    users: 0", "testing.load.users: Input should be greater than or equal to 1"),
        ("  restart_policy: Always", "  restart_policy: Sometimes", "deployment.restart_policy: Input should be"),
    ],
    ids=["unknown_key", "wrong_type", "out_of_range", "bad_enum"],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write_variant(tmp_path, old, new))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARCH_TESTING__LOAD__USERS", "25")
    monkeypatch.setenv("GARCH_DEPLOYMENT__CPU", "2")
    config = load_config(ROOT / "azure_config.yaml")
    assert config.testing.load.users == 25 and config.deployment.cpu == 2.0


def test_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found \(copy azure_config\.example\.yaml\)"):
        load_config(tmp_path / "nope.yaml")
