"""A deployment's record holds the names of its secrets, never their values; starting it again needs the values
from the environment, and says which one is missing in one line."""

import json
import os
import stat
from pathlib import Path

import pytest

from provisioning.config import ProjectConfig, with_azure_target
from provisioning.environments import attach_deployment
from provisioning.environments.azure.aci_deployment import AciDeployment
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.local import LocalContainerDeployment
from provisioning.environments.process import ProcessDeployment
from provisioning.environments.secrets import MissingSecret
from provisioning.state_file import StateFile

KEY, CONNECTION = "s3cret-api-key-value", "DefaultEndpointsProtocol=https;AccountKey=s3cret-account-key"
SECRETS = {"API_KEY": KEY, "MODEL_STORE_CONNECTION_STRING": CONNECTION}
PLAIN = {"WEB_CONCURRENCY": "2", "MODEL_STORE": "/srv/models"}


def assert_no_secret_value(record: dict[str, object]) -> None:
    text = json.dumps(record)
    assert KEY not in text and "s3cret-account-key" not in text, text


@pytest.mark.parametrize(
    "deployment",
    [ProcessDeployment(env={**PLAIN, **SECRETS}), LocalContainerDeployment(env={**PLAIN, **SECRETS})],
    ids=["process", "local"],
)
def test_a_record_names_its_secrets_and_attaching_takes_their_values_again(
    deployment: ProcessDeployment | LocalContainerDeployment,
) -> None:
    record = deployment.state()
    assert_no_secret_value(record)
    assert record["env"] == PLAIN and record["secret_variables"] == sorted(SECRETS)
    attached = attach_deployment(record, ProjectConfig(), SECRETS)
    assert attached.state() == record
    service_env = getattr(attached, "_extra_env", None) or attached._env
    assert service_env == {**PLAIN, **SECRETS}, "the service is started with the values from the environment"
    again = type(deployment).from_state(json.loads(json.dumps(record)), SECRETS)
    assert again.state() == record


def test_a_process_record_started_without_its_key_refuses_in_one_line(tmp_path: Path) -> None:
    record = ProcessDeployment(env={**PLAIN, "API_KEY": KEY}, log_path=tmp_path / "service.log").state()
    attached = attach_deployment(record, ProjectConfig(), {})
    try:
        with pytest.raises(MissingSecret) as refused:
            attached.start()
    finally:
        removed = attached.teardown()
    assert removed == [], "nothing may start without the key; a teardown needs no secret"
    message = str(refused.value)
    assert message.startswith("API_KEY not set: the recorded process deployment was deployed with it") and (
        "\n" not in message
    )
    assert not (tmp_path / "service.log").exists(), "nothing may start without the key"
    assert attached.state()["secret_variables"] == ["API_KEY"], "rewriting the record keeps the name"


@pytest.mark.parametrize("deployment_type", [AciDeployment, ContainerAppsDeployment])
def test_a_prod_record_names_its_secrets_and_a_redeploy_without_them_refuses(
    deployment_type: type[AciDeployment],
) -> None:
    project = with_azure_target(ProjectConfig(), deployment_type.target)  # type: ignore[arg-type]
    deployment = deployment_type(project, azure=None, env=PLAIN, secure_env=SECRETS)  # type: ignore[arg-type]
    record = deployment.state()
    assert_no_secret_value(record)
    assert record["secret_variables"] == sorted(SECRETS)
    without_key = attach_deployment(record, project, {"MODEL_STORE_CONNECTION_STRING": CONNECTION})
    assert without_key.state()["secret_variables"] == sorted(SECRETS)
    with pytest.raises(MissingSecret, match=r"^API_KEY not set: the recorded prod deployment"):
        without_key._own_secure_env()  # type: ignore[attr-defined]
    with_both = attach_deployment(record, project, {**SECRETS, "UNRELATED": "x"})
    assert with_both._own_secure_env() == SECRETS  # type: ignore[attr-defined]


def test_a_record_from_before_secrets_were_left_out_still_attaches() -> None:
    legacy = {**ProcessDeployment(env=PLAIN).state(), "env": {**PLAIN, "API_KEY": KEY}}
    del legacy["secret_variables"]
    attached = attach_deployment(legacy, ProjectConfig(), {})
    assert_no_secret_value(attached.state())  # the next write of the record drops the value


def test_a_state_file_is_private_from_its_creation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("the record was created with a wider mode and narrowed afterwards")

    monkeypatch.setattr(os, "chmod", no_chmod)
    record = StateFile(tmp_path / ".mlops-deploy" / "deployment.json")
    record.write({"environment": "process"})
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.path.parent.stat().st_mode) == 0o700
    assert [path.name for path in record.path.parent.iterdir()] == ["deployment.json"]
