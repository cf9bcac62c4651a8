"""The AKS manifests of `mlops-deploy --action manifests`, rendered from the same configuration as the Azure targets:
a Deployment (probes on /health, requests equal to limits, non-root, read-only root filesystem with a writable
/tmp, no privilege escalation, no capabilities), a Service, an autoscaling/v2 HorizontalPodAutoscaler from
deployment.autoscale and a PodDisruptionBudget. Plain dicts, so they are validated offline and written as YAML."""

from pathlib import Path
from typing import Any

import yaml

from provisioning.config import ProjectConfig
from provisioning.errors import DeploymentError

Manifest = dict[str, Any]
IMAGE_USER_ID = 10001  # the Dockerfile's `garch` user
API_KEY_SECRET = "garch-api-key"


def labels(project: ProjectConfig, version: str) -> dict[str, str]:
    name = project.deployment.image_name
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/version": version, "app.kubernetes.io/part-of": name}


def _object(api_version: str, kind: str, project: ProjectConfig, version: str, spec: Manifest) -> Manifest:
    """A manifest named after the image, labelled with it and its version."""
    metadata = {"name": project.deployment.image_name, "labels": labels(project, version)}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def _probe(port: int, *, period_s: int, failures: int, timeout_s: int, initial_delay_s: int = 0) -> Manifest:
    probe = {
        "httpGet": {"path": "/health", "port": port, "scheme": "HTTP"},
        "periodSeconds": period_s,
        "failureThreshold": failures,
        "timeoutSeconds": timeout_s,
    }
    return {**probe, "initialDelaySeconds": initial_delay_s} if initial_delay_s else probe


def deployment(project: ProjectConfig, image: str, version: str) -> Manifest:
    """The pods: one container, sized by deployment.cpu/memory_gb (requests = limits, so the HPA's CPU percent is
    of exactly what a pod may use), probed as on Container Apps, with API_KEY from an optional Secret."""
    settings, scale = project.deployment, project.deployment.autoscale
    port = settings.port
    resources = {"cpu": f"{settings.cpu:g}", "memory": f"{int(settings.memory_gb * 1024)}Mi"}
    container = {
        "name": "api",
        "image": image,
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "PORT", "value": str(port)},
            {"name": "WEB_CONCURRENCY", "value": str(settings.web_concurrency)},
            {
                "name": "API_KEY",
                "valueFrom": {"secretKeyRef": {"name": API_KEY_SECRET, "key": "API_KEY", "optional": True}},
            },
        ],
        "resources": {"requests": resources, "limits": resources},
        "startupProbe": _probe(port, period_s=3, failures=10, timeout_s=3, initial_delay_s=1),
        "readinessProbe": _probe(port, period_s=5, failures=3, timeout_s=3),
        "livenessProbe": _probe(port, period_s=10, failures=3, timeout_s=5),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": IMAGE_USER_ID,
            "runAsGroup": IMAGE_USER_ID,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    pod_labels = labels(project, version)
    pod_security = {"runAsNonRoot": True, "fsGroup": IMAGE_USER_ID, "seccompProfile": {"type": "RuntimeDefault"}}
    pod = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security,
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        "terminationGracePeriodSeconds": 30,
    }
    spec = {
        "replicas": scale.min_replicas,
        "selector": {"matchLabels": {"app.kubernetes.io/name": settings.image_name}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": pod_labels}, "spec": pod},
    }
    return _object("apps/v1", "Deployment", project, version, spec)


def service(project: ProjectConfig, version: str) -> Manifest:
    """A ClusterIP Service on port 80 (put an Ingress or a LoadBalancer in front as your cluster does)."""
    spec = {
        "type": "ClusterIP",
        "selector": {"app.kubernetes.io/name": project.deployment.image_name},
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
    }
    return _object("v1", "Service", project, version, spec)


def horizontal_pod_autoscaler(project: ProjectConfig, version: str) -> Manifest:
    """autoscaling/v2 on CPU utilization (percent of the request); scale-down waits deployment.autoscale.cooldown_s
    (the HPA's stabilization window). The HTTP concurrency rule has no built-in HPA metric: it stays Container
    Apps' (or KEDA's HTTP add-on's)."""
    scale, name = project.deployment.autoscale, project.deployment.image_name
    if scale.cpu_percent is None:
        raise DeploymentError("the HPA scales on CPU: set deployment.autoscale.cpu_percent")
    if scale.min_replicas < 1:
        raise DeploymentError("an HPA cannot scale to zero: set deployment.autoscale.min_replicas to 1 or more")
    cpu = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": scale.cpu_percent}}
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": scale.min_replicas,
        "maxReplicas": scale.max_replicas,
        "metrics": [{"type": "Resource", "resource": cpu}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": scale.cooldown_s}},
    }
    return _object("autoscaling/v2", "HorizontalPodAutoscaler", project, version, spec)


def pod_disruption_budget(project: ProjectConfig, version: str) -> Manifest:
    """At most one pod away at a time for node drains and upgrades, so two or more replicas keep serving."""
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": project.deployment.image_name}}}
    return _object("policy/v1", "PodDisruptionBudget", project, version, spec)


def render(project: ProjectConfig, image: str, version: str) -> dict[str, Manifest]:
    """Every manifest by its file name, in the order `kubectl apply` should meet them."""
    return {
        "deployment.yaml": deployment(project, image, version),
        "service.yaml": service(project, version),
        "hpa.yaml": horizontal_pod_autoscaler(project, version),
        "pdb.yaml": pod_disruption_budget(project, version),
    }


def write(manifests: dict[str, Manifest], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, manifest in manifests.items():
        path = out / name
        path.write_text(yaml.safe_dump(manifest, sort_keys=False))
        written.append(path)
    return written
