"""Least privilege on what really runs: the local container locked down, a prod run's identities holding only the
roles they use, and no secret in plain sight in ARM, in logs, in reports or in the deployment's record."""

import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from harness.least_privilege.role_audit import granted, needed
from harness.least_privilege.run_secrets import run_secrets
from harness.least_privilege.secret_scan import files_containing, plain_secrets
from harness.pytest_plugin.deployment import shared_dir
from harness.pytest_plugin.reports import reports_dir
from provisioning.config import ProjectConfig
from provisioning.environments.azure.clients import AzureClients
from provisioning.environments.azure.model_storage import container_name, role_definition_id
from provisioning.environments.azure.run_deployment import AzureRunDeployment
from provisioning.environments.azure.settings import AzureEnvironment
from provisioning.environments.base import Deployment
from provisioning.environments.image import docker_client
from provisioning.environments.local import LocalContainerDeployment
from provisioning.errors import LogsUnavailable
from provisioning.processes import group_members

ROOT = Path(__file__).resolve().parents[2]
NO_CAPABILITIES = "0000000000000000"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
# What the service's own user may and may not do inside the container, asked from inside it.
PROBE = """
import json, os, pathlib
lines = pathlib.Path('/proc/self/status').read_text().splitlines()
status = dict(line.split(':\\t', 1) for line in lines if ':\\t' in line)
def writable(path):
    try:
        pathlib.Path(path, 'probe').write_text('x'); pathlib.Path(path, 'probe').unlink(); return True
    except OSError:
        return False
print(json.dumps({'uid': os.getuid(), 'cap_eff': status['CapEff'].strip(), 'cap_bnd': status['CapBnd'].strip(),
                  'no_new_privs': status['NoNewPrivs'].strip(), 'app': writable('/app'), 'root': writable('/'),
                  'tmp': writable('/tmp')}))
"""


def azure_run_or_skip(deployment: Deployment) -> AzureRunDeployment:
    if not isinstance(deployment, AzureRunDeployment):
        pytest.skip("checks a prod run's resources through ARM")
    return deployment


def test_the_local_container_is_read_only_without_capabilities_or_new_privileges(
    deployment: Deployment, live_url: str
) -> None:
    """Holds live_url's shared lock: a test that stops or restarts the container beside it killed the probe (137)."""
    if not isinstance(deployment, LocalContainerDeployment):
        pytest.skip("checks the local container's runtime settings (a process runs as whoever starts it)")
    container = docker_client().containers.get(deployment.container_id)
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert "no-new-privileges:true" in host["SecurityOpt"] and host["Privileged"] is False
    assert set(host["Tmpfs"]) == {"/tmp"}
    done = container.exec_run(["python", "-c", PROBE])
    assert done.exit_code == 0, done.output.decode()
    inside = json.loads(done.output)
    assert inside["uid"] != 0
    assert inside["cap_eff"] == inside["cap_bnd"] == NO_CAPABILITIES
    assert inside["no_new_privs"] == "1"
    assert (inside["app"], inside["root"], inside["tmp"]) == (False, False, True)


def test_every_role_the_run_grants_is_one_its_identities_use(
    deployment: Deployment, project_config: ProjectConfig
) -> None:
    run = azure_run_or_skip(deployment)
    clients = AzureClients(AzureEnvironment())
    identity_store = project_config.azure.model_storage.auth == "identity"
    store = container_name(project_config.models.store) if identity_store else None
    made = granted(clients, run.resource_group)
    used = needed(clients, run.resource_group, store_container=store)
    assert made, "the run granted no role at all: nothing was audited"
    assert sorted(map(str, made - used)) == [], "granted but never used"
    assert sorted(map(str, used - made)) == [], "used but never granted"
    # The audit sees a grant too many: Reader on the run's group for one of its identities, then taken back.
    principal = next(iter(made)).principal
    group_id = f"/subscriptions/{clients.azure.subscription_id}/resourceGroups/{run.resource_group}"
    name = str(uuid.uuid4())
    clients.authorization.role_assignments.create(
        group_id,
        name,
        RoleAssignmentCreateParameters(
            role_definition_id=role_definition_id(clients.azure.subscription_id, READER),
            principal_id=principal,
            principal_type="ServicePrincipal",
        ),
    )
    try:
        excess = granted(clients, run.resource_group) - used
    finally:
        clients.authorization.role_assignments.delete(group_id, name)
    assert [grant.role for grant in excess] == [READER]


def test_no_secret_is_a_plain_environment_value_in_arm(deployment: Deployment) -> None:
    run = azure_run_or_skip(deployment)
    clients = AzureClients(AzureEnvironment())
    variables: list[tuple[str, str | None]] = []
    groups = clients.container_instances.container_groups
    for listed in groups.list_by_resource_group(run.resource_group):
        for container in groups.get(run.resource_group, listed.name).containers:
            variables += [(v.name, v.value) for v in container.environment_variables or []]
    for app in clients.container_apps.container_apps.list_by_resource_group(run.resource_group):
        for container in app.template.containers:
            variables += [(v.name, v.value) for v in container.env or []]
    assert variables, "no environment variable found: nothing was checked"
    assert plain_secrets(variables) == []


def test_no_secret_of_the_run_is_in_its_reports_logs_or_record(
    deployment: Deployment, pytestconfig: pytest.Config
) -> None:
    """Every key, password and connection string the run's resources hold, read back through ARM, is absent from
    the reports, the session's own files (its deployment record among them) and the deployment's console output."""
    run = azure_run_or_skip(deployment)
    held = run_secrets(AzureClients(AzureEnvironment()), run.resource_group)
    assert held, "the run holds no secret at all: nothing was looked for"
    roots = [reports_dir(pytestconfig), shared_dir(pytestconfig)]
    try:
        console = deployment.logs()
    except LogsUnavailable:  # Container Apps: the console goes to Log Analytics only
        console = ""
    found = {name: files_containing(value, roots) for name, value in held.items()}
    found.update({f"{name} (console output)": [Path("console")] for name, value in held.items() if value in console})
    assert {name: paths for name, paths in found.items() if paths} == {}


@pytest.mark.deploy
@pytest.mark.usefixtures("own_process_deployments")
def test_a_planted_secret_and_the_api_key_never_reach_logs_reports_or_the_record(tmp_path: Path) -> None:
    """A variable the code does not know, holding a secret, in the environment the service inherits: after a
    deploy, good and bad requests, a monitor and a teardown, neither it nor the API key is in any output or file."""
    api_key, planted = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = {**os.environ, "API_KEY": api_key, "GARCH_UNRELATED_VENDOR_TOKEN": planted}

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(ROOT / "mlops_deploy.py"), *args, "--config", str(ROOT / "azure_config.yaml")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    outputs = [cli("--action", "deploy", "--env", "process")]
    try:
        state = json.loads((tmp_path / ".mlops-deploy" / "deployment.json").read_text())
        (pid, *_) = group_members(state["group"])
        assert planted in Path(f"/proc/{pid}/environ").read_text(errors="replace"), "the planted variable is unset"
        url = f"http://127.0.0.1:{state['port']}"
        with httpx.Client(base_url=url, timeout=30) as client:
            client.get("/predict", headers={"X-API-Key": api_key}).raise_for_status()
            assert client.get("/predict", headers={"X-API-Key": planted}).status_code == 401
            assert client.post("/predict/custom", headers={"X-API-Key": api_key}, json={"returns": [1]}).is_error
            outputs.append(client.get("/metrics").text)
        outputs.append(cli("--action", "monitor", "--duration", "1"))
        logs = Path(state["log_path"])
        log_text = logs.read_text(errors="replace")
        while_deployed = {secret: files_containing(secret, [tmp_path]) for secret in (api_key, planted)}
    finally:
        outputs.append(cli("--action", "teardown"))
    assert "401" in log_text or "unauthorized" in log_text, "the service logged nothing of the requests made"
    assert while_deployed == {api_key: [], planted: []}, "a secret is in the deployment's record"
    for secret in (api_key, planted):
        assert not any(secret in output for output in outputs)
        assert files_containing(secret, [tmp_path, logs]) == []
