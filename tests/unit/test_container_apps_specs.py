"""The Container Apps target checked offline: the bodies as the SDK serialises them, the size refusal, the
configuration and flags that choose the target, and the alert catalogue in Container Apps' metrics and units."""

import dataclasses
from pathlib import Path

import pytest

from provisioning.cli import parse_args
from provisioning.config import AutoscaleSection, ConfigError, ProjectConfig, load_config, with_azure_target
from provisioning.environments import attach_deployment
from provisioning.environments.azure.aci_deployment import AciDeployment
from provisioning.environments.azure.container_apps.app_spec import (
    AppRequest,
    UnsupportedSize,
    check_size,
    container_app,
    managed_environment,
    scale,
    secret_name,
    traffic,
)
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.azure.container_apps.names import ContainerAppNames
from provisioning.environments.azure.container_group_spec import WorkspaceLogin
from provisioning.monitoring.azure_alerts import ACA_NAMESPACE, AzureScope, render_azure_monitor
from provisioning.monitoring.catalogue import GIB, ServiceLimits

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"API_KEY": "k3y", "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=abc"}
PROJECT = with_azure_target(ProjectConfig(), "container_apps")
NAMES = ContainerAppNames.for_run(PROJECT.azure, "abc123")


def app_body(**env: str) -> dict:
    request = AppRequest.for_run(
        PROJECT, NAMES, "acr.example/garch-mlops:1-sha-abc", environment_id="/env/id",
        registry_server="acr.example", env=env, secrets=SECRETS,
    )  # fmt: skip
    name = f"garch-api--{request.revision_suffix()}"
    return container_app(request, suffix=request.revision_suffix(), weights=traffic((name, 100))).as_dict()


def test_secrets_reach_the_container_only_by_secret_ref() -> None:
    body = app_body(WEB_CONCURRENCY="2")
    configuration = body["properties"]["configuration"]
    env = body["properties"]["template"]["containers"][0]["env"]
    assert {s["name"]: s["value"] for s in configuration["secrets"]} == {secret_name(k): v for k, v in SECRETS.items()}
    by_name = {variable["name"]: variable for variable in env}
    for variable in SECRETS:
        assert by_name[variable] == {"name": variable, "secretRef": secret_name(variable)}
    assert all(value not in str(env) for value in SECRETS.values())
    assert secret_name("APPLICATIONINSIGHTS_CONNECTION_STRING") == "applicationinsights-connection-string"


def test_key_vault_secrets_are_urls_the_apps_identity_reads_and_no_value() -> None:
    request = AppRequest.for_run(
        PROJECT, NAMES, "acr.example/garch-mlops:1-sha-abc", environment_id="/env/id",
        registry_server="acr.example", env={}, secrets={},
    )  # fmt: skip
    urls = {
        variable: f"https://{NAMES.key_vault}.vault.azure.net/secrets/{secret_name(variable)}" for variable in SECRETS
    }
    in_vault = dataclasses.replace(request, key_vault_secrets=urls)
    body = container_app(in_vault, suffix=in_vault.revision_suffix(), weights=traffic(("garch-api--v1", 100))).as_dict()

    secrets = body["properties"]["configuration"]["secrets"]
    assert secrets == [{"name": secret_name(k), "keyVaultUrl": urls[k], "identity": "system"} for k in sorted(SECRETS)]
    env = {variable["name"]: variable for variable in body["properties"]["template"]["containers"][0]["env"]}
    assert all(env[k] == {"name": k, "secretRef": secret_name(k)} for k in SECRETS)
    assert NAMES.key_vault == "garchkvabc123" and in_vault.revision_suffix() != request.revision_suffix()


def test_the_app_is_multiple_mode_external_on_the_port_with_health_probes_and_an_identity_pull() -> None:
    body = app_body()
    configuration, template = body["properties"]["configuration"], body["properties"]["template"]
    assert configuration["activeRevisionsMode"] == "Multiple"
    assert configuration["ingress"]["external"] is True and configuration["ingress"]["targetPort"] == 8001
    assert configuration["registries"] == [{"server": "acr.example", "identity": "system"}]
    assert body["identity"] == {"type": "SystemAssigned"}
    container = template["containers"][0]
    assert container["resources"] == {"cpu": 1.0, "memory": "2Gi"}
    probes = {probe["type"]: probe["httpGet"] for probe in container["probes"]}
    assert probes.keys() == {"Startup", "Readiness", "Liveness"}
    assert all(get == {"path": "/health", "port": 8001, "scheme": "HTTP"} for get in probes.values())
    assert body["properties"]["managedEnvironmentId"] == "/env/id"


def test_the_scale_rules_are_deployment_autoscale_in_keda_vocabulary() -> None:
    scale = app_body()["properties"]["template"]["scale"]
    assert {key: scale[key] for key in ("minReplicas", "maxReplicas", "pollingInterval", "cooldownPeriod")} == {
        "minReplicas": 2, "maxReplicas": 10, "pollingInterval": 30, "cooldownPeriod": 300,
    }  # fmt: skip
    assert scale["rules"] == [
        {"name": "http-concurrency", "http": {"metadata": {"concurrentRequests": "10"}}},
        {"name": "cpu-utilization", "custom": {"type": "cpu", "metadata": {"type": "Utilization", "value": "70"}}},
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"min_replicas": 4, "max_replicas": 3}, "min_replicas 4 exceeds max_replicas 3"),
        ({"max_replicas": 1001}, "max_replicas 1001 is over Container Apps' limit of 1000"),
        ({"min_replicas": 0}, "min_replicas 0 with a CPU rule: CPU rules cannot scale to zero (set cpu_percent: null)"),
    ],
)
def test_autoscale_bounds_the_platform_refuses_fail_at_config_load_in_one_line(
    monkeypatch: pytest.MonkeyPatch, override: dict[str, int], message: str
) -> None:
    for key, value in override.items():
        monkeypatch.setenv(f"GARCH_DEPLOYMENT__AUTOSCALE__{key.upper()}", str(value))
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "azure_config.yaml")
    assert str(caught.value).endswith(f"azure_config.yaml: deployment.autoscale: {message}"), caught.value


def test_an_http_rule_alone_may_scale_to_zero() -> None:
    autoscale = AutoscaleSection(min_replicas=0, cpu_percent=None)
    assert [rule.name for rule in scale(autoscale).rules or []] == ["http-concurrency"]
    assert scale(autoscale).min_replicas == 0


def test_a_changed_request_is_a_new_revision_and_the_same_one_the_same() -> None:
    first, same, changed = app_body(), app_body(), app_body(MODEL_STORE="https://store/models")
    suffix = lambda body: body["properties"]["template"]["revisionSuffix"]  # noqa: E731
    assert suffix(first) == suffix(same) != suffix(changed)


def test_a_label_goes_on_the_named_revision_only() -> None:
    weights = [dict(w) for w in traffic(("app--a", 90), ("app--b", 10), label=("app--b", "canary"))]
    assert weights == [
        {"revisionName": "app--a", "weight": 90},
        {"revisionName": "app--b", "weight": 10, "label": "canary"},
    ]


def test_the_environment_logs_to_the_workspace_with_its_key() -> None:
    body = managed_environment("westeurope", WorkspaceLogin("customer-id", "shared-key"), {"run": "x"}).as_dict()
    logs = body["properties"]["appLogsConfiguration"]
    assert logs == {
        "destination": "log-analytics",
        "logAnalyticsConfiguration": {"customerId": "customer-id", "sharedKey": "shared-key"},
    }


@pytest.mark.parametrize(("cpu", "memory"), [(1.0, 1.5), (0.3, 0.6), (4.25, 8.5), (2.0, 2.0)])
def test_a_size_container_apps_refuses_is_one_line_before_any_call(cpu: float, memory: float) -> None:
    with pytest.raises(UnsupportedSize) as caught:
        check_size(cpu, memory)
    assert "\n" not in str(caught.value) and f"cpu {cpu:g} / memory {memory:g}Gi" in str(caught.value)


@pytest.mark.parametrize(("cpu", "memory"), [(0.25, 0.5), (1.0, 2.0), (1.75, 3.5), (4.0, 8.0)])
def test_consumption_sizes_are_accepted(cpu: float, memory: float) -> None:
    check_size(cpu, memory)


def test_a_bad_pair_in_the_file_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    text = (ROOT / "azure_config.yaml").read_text().replace("memory_gi: 2.0", "memory_gi: 1.5", 1)
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.yaml")
    assert "azure.container_apps" in str(caught.value) and "\n" not in str(caught.value)


def test_the_target_defaults_to_aci_and_a_flag_overrides_the_file() -> None:
    shipped = load_config(ROOT / "azure_config.yaml")
    assert shipped.azure.target == "container_instances"
    assert with_azure_target(shipped, None) is shipped
    assert with_azure_target(shipped, "container_apps").azure.target == "container_apps"
    assert parse_args(["--action", "deploy", "--env", "prod", "--azure-target", "container_apps"]).azure_target == (
        "container_apps"
    )
    with pytest.raises(SystemExit):
        parse_args(["--action", "deploy", "--azure-target", "app_service"])


def test_a_record_names_its_target_whatever_the_configuration_says_now() -> None:
    record = ContainerAppsDeployment(PROJECT, azure=None, names=NAMES).state()  # type: ignore[arg-type]
    assert record["target"] == "container_apps"
    attached = attach_deployment({**record, "resources": ["resource group x"]}, ProjectConfig())
    assert isinstance(attached, ContainerAppsDeployment) and attached.names == NAMES
    legacy = {"environment": "prod", "names": NAMES.as_dict(), "image": None, "url": None, "env": {}}
    for container_apps_only in ("managed_environment", "key_vault"):
        legacy["names"].pop(container_apps_only)
    assert isinstance(attach_deployment(legacy, PROJECT), AciDeployment)


def test_the_catalogue_renders_to_container_apps_metrics_in_their_units() -> None:
    scope = AzureScope("sub", "rg", "westeurope", "garch-api", "garch-ai", ACA_NAMESPACE)
    limits = ServiceLimits.from_sizes(1.0, 2.0)
    resources = render_azure_monitor(scope, PROJECT.monitoring, limits, "https://garch-api.example/health")
    criteria = {
        r.name: r.body["properties"]["criteria"]["allOf"][0]
        for r in resources
        if r.type == "Microsoft.Insights/metricAlerts" and "allOf" in r.body["properties"]["criteria"]
    }
    assert (criteria["ApiCpuHigh"]["metricName"], criteria["ApiCpuHigh"]["threshold"]) == ("UsageNanoCores", 0.8e9)
    assert (criteria["ApiMemoryHigh"]["metricName"], criteria["ApiMemoryHigh"]["threshold"]) == (
        "WorkingSetBytes",
        float(int(0.9 * 2 * GIB)),
    )
    assert {c["metricNamespace"] for c in criteria.values()} == {ACA_NAMESPACE}
    scopes = {r.name: r.body["properties"]["scopes"] for r in resources if r.name in criteria}
    assert scopes["ApiCpuHigh"] == [
        "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.App/containerApps/garch-api"
    ]
