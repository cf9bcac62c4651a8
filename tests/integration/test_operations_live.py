"""What operators rely on: the API key, exact metrics across worker processes, and request ids in the logs."""

import json
import uuid

import httpx
import pytest

from harness.prometheus_text import sample
from harness.pytest_plugin.deployment import HarnessOptions, logs_or_skip
from harness.synthetic_traffic import SYNTHETIC_HEADERS, verification_headers
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.base import Deployment
from provisioning.waiting import wait_until

pytestmark = pytest.mark.integration


def test_api_key_is_enforced_when_the_deployment_has_one(live_url: str, harness_options: HarnessOptions) -> None:
    if not harness_options.api_key:
        how = "--api-key" if harness_options.api_url else "--deploy-api-key"
        pytest.skip(f"no API key given, so none to check enforcement of (give one with {how})")
    with httpx.Client(base_url=live_url, headers=SYNTHETIC_HEADERS, timeout=30) as client:
        assert client.get("/predict").status_code == 401
        assert client.get("/predict", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/predict", headers={"X-API-Key": harness_options.api_key}).status_code == 200
        assert client.get("/health").status_code == 200


def test_metrics_move_by_exactly_the_requests_made(
    deployment_control: Deployment, harness_options: HarnessOptions
) -> None:
    """Runs with the deployment to itself; every worker process answers some of these and /metrics sums them."""
    if isinstance(deployment_control, ContainerAppsDeployment):
        replicas = len(deployment_control.revisions.replicas(str(deployment_control.revision)))
        if replicas > 1:
            pytest.skip(
                f"{replicas} replicas serve and each answers /metrics for itself (Prometheus scrapes each): exact "
                "counts through the app's one address are checked where one instance serves"
            )
    headers = verification_headers(harness_options.api_key)
    with httpx.Client(base_url=deployment_control.url, headers=headers, timeout=30) as client:
        before = client.get("/metrics").text
        for _ in range(40):
            assert client.get("/predict", params={"model": "egarch_1_1", "horizon": 1}).status_code == 200
        for _ in range(7):
            assert client.get("/predict", params={"horizon": 999}).status_code == 400
        after = client.get("/metrics").text
    counter = "garch_http_requests_total"
    ok = {"route": "/predict", "method": "GET", "status": "200", "traffic": "synthetic"}
    bad = {"route": "/predict", "method": "GET", "status": "400", "traffic": "synthetic"}
    assert sample(after, counter, **ok) - sample(before, counter, **ok) == 40
    assert sample(after, counter, **bad) - sample(before, counter, **bad) == 7
    predictions = "garch_predictions_total"
    assert sample(after, predictions, model="egarch_1_1") - sample(before, predictions, model="egarch_1_1") == 40
    assert sample(after, "process_resident_memory_bytes") > 50_000_000


def test_log_lines_carry_the_request_id(api: httpx.Client, deployment: Deployment) -> None:
    request_id = f"it-{uuid.uuid4().hex}"
    assert api.get("/predict", params={"horizon": 3}, headers={"X-Request-ID": request_id}).status_code == 200
    matching = wait_until(
        lambda: [json.loads(line) for line in logs_or_skip(deployment).splitlines() if request_id in line] or None,
        what=f"a log line with {request_id}",
        where=deployment.url,
        timeout_s=10,
        interval_s=0.1,
    )
    assert len(matching) == 1, f"expected one log line with {request_id}"
    assert matching[0]["path"] == "/predict" and matching[0]["status"] == 200 and matching[0]["horizon"] == 3
