"""The deployment's lifecycle: it reports what it runs, restarts cleanly, and leaves nothing behind."""

import time

import httpx

from provisioning.config import ProjectConfig
from provisioning.environments.base import Deployment

REQUESTS_AFTER_READY = 50


def test_deployment_reports_the_version_it_runs(api: httpx.Client, deployment: Deployment) -> None:
    health = api.get("/health").json()
    assert health["status"] == "healthy"
    assert health["version"] in deployment.version, (health["version"], deployment.version)


def test_restart_is_healthy_within_the_bound_and_serves_every_request(
    deployment_control: Deployment, project_config: ProjectConfig
) -> None:
    started = time.monotonic()
    deployment_control.restart()
    ready_after = time.monotonic() - started
    bound = project_config.testing.restart_ready_within_s
    assert ready_after <= bound, f"restart took {ready_after:.1f}s, bound {bound}s"
    with httpx.Client(base_url=deployment_control.url, timeout=30) as client:
        statuses = [client.get("/health").status_code for _ in range(REQUESTS_AFTER_READY)]
    assert statuses == [200] * REQUESTS_AFTER_READY


def test_stopped_deployment_refuses_connections_and_comes_back(deployment_control: Deployment) -> None:
    """Stopped, nothing of the API answers: nothing listens (a process, a container, ACI), or a front end that
    outlives the app (Container Apps' ingress) answers 404 saying it is stopped."""
    deployment_control.stop()
    try:
        answer = httpx.get(f"{deployment_control.url}/health", timeout=2)
    except httpx.TransportError:
        pass
    else:
        assert answer.status_code == 404 and "stopped" in answer.text, f"a stopped deployment answered {answer}"
    deployment_control.start()
    assert httpx.get(f"{deployment_control.url}/health", timeout=10).status_code == 200
