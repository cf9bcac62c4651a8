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


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "GARCH_MONITORING__HEALTH_CHECK_INTERVAL",
            "2",
            "GARCH_MONITORING__HEALTH_CHECK_INTERVAL: no such setting "
            "(did you mean GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S?)",
        ),
        ("garch_models__evaluation__holdouts", "3", "(did you mean GARCH_MODELS__EVALUATION__HOLDOUT?)"),
        ("GARCH_MONITORNG__HEALTH_CHECK_INTERVAL_S", "2", "(did you mean GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S?)"),
        ("GARCH_NOTHING__LIKE__IT", "1", "GARCH_NOTHING__LIKE__IT: no such setting"),
        (
            "GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S",
            "soon",
            "GARCH_MONITORING__HEALTH_CHECK_INTERVAL_S: Input should be a valid number",
        ),
    ],
    ids=["typo_in_key", "lower_case", "typo_in_section", "no_close_match", "bad_value"],
)
def test_a_bad_override_variable_is_reported_as_that_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "azure_config.yaml")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "azure_config.yaml" not in str(caught.value), "the file is not where the problem is"


def test_an_override_in_dot_env_is_checked_and_named_with_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("GARCH_DEPLOYMENT__CPUS=2\n")
    with pytest.raises(ConfigError, match=r"^GARCH_DEPLOYMENT__CPUS \(in \.env\): no such setting \(did you mean "):
        load_config(ROOT / "azure_config.yaml")


def test_the_projects_other_garch_variables_and_keys_below_a_mapping_are_not_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GARCH_MLOPS_SESSION", "pytest-1")  # a session mark, not a setting
    monkeypatch.setenv("GARCH_MODELS__STORE__BACKEND__LOCAL", "directory")  # a key of the backend mapping
    assert load_config(ROOT / "azure_config.yaml").models.store.backend["local"] == "directory"
