"""The AKS manifests of `--action manifests`, validated offline against the Kubernetes API schemas that
kubernetes-validate bundles (strict: an unknown field fails), for every minor version from 1.30 on; and the HPA's
replica arithmetic against the examples of the Kubernetes documentation and for the default configuration."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from provisioning.cli import main
from provisioning.config import AutoscaleSection, DeploymentSection, ProjectConfig
from provisioning.errors import DeploymentError
from provisioning.kubernetes.hpa import desired_replicas
from provisioning.kubernetes.manifests import horizontal_pod_autoscaler, render

pytestmark = pytest.mark.unit

PROJECT = ProjectConfig()
MANIFESTS = render(PROJECT, "garchmlopsacr.azurecr.io/garch-mlops:0.1.0", "0.1.0")
VERSIONS = sorted(
    {v for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 30)},
    key=lambda v: tuple(map(int, v.split("."))),
)


def test_kubernetes_validate_bundles_versions_from_1_30_on() -> None:
    assert VERSIONS[0] == "1.30.0" and len(VERSIONS) >= 7, VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", list(MANIFESTS))
def test_every_manifest_validates_strictly(name: str, version: str) -> None:
    kubernetes_validate.validate(MANIFESTS[name], version, strict=True)


def test_strict_validation_would_catch_a_misspelt_field() -> None:
    broken = yaml.safe_load(yaml.safe_dump(MANIFESTS["hpa.yaml"]))
    broken["spec"]["maxReplica"] = broken["spec"].pop("maxReplicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_the_pods_run_unprivileged_on_a_read_only_root_with_probes_on_health() -> None:
    pod = MANIFESTS["deployment.yaml"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": 8001, "scheme": "HTTP"}
    assert container["resources"]["requests"] == container["resources"]["limits"] == {"cpu": "1", "memory": "1536Mi"}
    assert not any("value" in env for env in container["env"] if env["name"] == "API_KEY")  # from a Secret only


def test_the_hpa_is_the_autoscale_section() -> None:
    spec = MANIFESTS["hpa.yaml"]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    assert spec["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["scaleTargetRef"]["name"] == MANIFESTS["deployment.yaml"]["metadata"]["name"]


def test_an_hpa_without_a_cpu_rule_is_refused_in_one_line() -> None:
    http_only = ProjectConfig(deployment=DeploymentSection(autoscale=AutoscaleSection(cpu_percent=None)))
    with pytest.raises(DeploymentError, match=r"^the HPA scales on CPU: set deployment\.autoscale\.cpu_percent$"):
        horizontal_pod_autoscaler(http_only, "0.1.0")


def test_the_cli_writes_the_manifests_kubectl_applies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--action", "manifests", "--out", str(tmp_path / "k8s"), "--image", "registry.example/garch:7"]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(path).name for path in written] == ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]
    deployment = yaml.safe_load(Path(written[0]).read_text())
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/garch:7"


# The examples of kubernetes.io, "Horizontal Pod Autoscaling" (algorithm details) and its walkthrough.
DOCUMENTED = [
    pytest.param(1, 200, 100, 2, id="200m against 100m: doubled"),
    pytest.param(4, 50, 100, 2, id="50m against 100m: halved"),
    pytest.param(1, 305, 50, 7, id="walkthrough: 305% against 50% on one pod gives 7"),
    pytest.param(10, 105, 100, 10, id="ratio 1.05 is within the 0.1 tolerance: unchanged"),
]


@pytest.mark.parametrize(("current", "metric", "target", "expected"), DOCUMENTED)
def test_desired_replicas_follow_the_documented_examples(
    current: int, metric: float, target: float, expected: int
) -> None:
    assert desired_replicas(current, metric, target) == expected


# The default config (2..10 replicas, 70% CPU), from 2 replicas.
DEFAULT_TABLE = [(20, 2), (35, 2), (63, 2), (76, 2), (78, 3), (105, 3), (140, 4), (210, 6), (350, 10), (500, 10)]


@pytest.mark.parametrize(("cpu_percent", "expected"), DEFAULT_TABLE)
def test_the_default_hpa_from_two_replicas(cpu_percent: float, expected: int) -> None:
    scale = PROJECT.deployment.autoscale
    assert scale.cpu_percent is not None
    got = desired_replicas(
        2, cpu_percent, scale.cpu_percent, min_replicas=scale.min_replicas, max_replicas=scale.max_replicas
    )
    assert got == expected
