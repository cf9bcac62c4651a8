"""The request limits against the live deployment, on raw sockets: an oversized head, trickled requests, a
connection flood and a run of wrong API keys. Each is refused with a clear status (or a close), never a 5xx, and
/health keeps answering."""

import math
import time

import httpx
import pytest

from harness.prometheus_text import sample
from harness.pytest_plugin.deployment import ExternalDeployment, HarnessOptions, skip_unless_ours
from harness.raw_http import RawAnswer, RawConnection, ServerClosed
from provisioning.config import ProjectConfig, RequestLimitsSection
from provisioning.environments.azure.container_apps.deployment import ContainerAppsDeployment
from provisioning.environments.base import Deployment
from provisioning.waiting import wait_until

pytestmark = pytest.mark.integration

GRACE_S = 5.0  # on top of a time bound: a loaded machine, a proxy's connect
HEALTH_DEADLINE_S = 15.0
TRICKLE_EVERY_S = 0.5
INGRESS = (
    "Container Apps' ingress (Envoy on Azure, a reverse proxy in the emulator) holds the client's connection and "
    "reads the request before the app sees it"
)
ANOTHER_LOOPBACK_ADDRESS = "127.0.0.2"


@pytest.fixture(autouse=True)
def ours_only(harness_options: HarnessOptions) -> None:
    """Oversized heads, trickles, floods and wrong keys are not what a verify run may send to a deployment someone
    else runs: under --api-url these skip, as every test that needs a deployment to itself does."""
    skip_unless_ours(harness_options)


def limits(project_config: ProjectConfig) -> RequestLimitsSection:
    return project_config.deployment.request_limits


def health_keeps_answering(url: str) -> None:
    """/health answers 200 on a new connection (polled: a proxy may take a moment to let go of a refused one)."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, what="/health 200", where=url, timeout_s=HEALTH_DEADLINE_S, interval_s=0.1)


def refusals(url: str, reason: str) -> float:
    """garch_http_refused_total{reason}, summed over the deployment's workers."""
    text = httpx.get(f"{url}/metrics", timeout=10, follow_redirects=True).text
    return sample(text, "garch_http_refused_total", reason=reason)


def answer_or_close(conn: RawConnection, timeout_s: float) -> RawAnswer | None:
    """The server's answer, or None when it closed (or reset) the connection without one."""
    try:
        return conn.answer(timeout_s)
    except ServerClosed:
        return None


@pytest.mark.parametrize("header_bytes", [20_000, 1 << 20], ids=["just_over_the_cap", "one_mebibyte"])
def test_an_oversized_head_gets_431_or_a_close_never_5xx(
    live_url: str, deployment: Deployment, project_config: ProjectConfig, header_bytes: int
) -> None:
    assert header_bytes > limits(project_config).max_request_head_bytes
    with RawConnection(live_url) as conn:
        conn.send(conn.request("GET", "/health", {"X-Padding": "a" * header_bytes}))
        answer = answer_or_close(conn, timeout_s=GRACE_S * 2)
    if answer is not None:
        assert answer.status == 431, (answer.status, answer.body[:300])
        if not isinstance(deployment, ContainerAppsDeployment):  # the ingress answers with its own body
            assert b"request_head_too_large" in answer.body
    health_keeps_answering(live_url)


def test_trickled_heads_and_bodies_are_cut_off_at_their_bounds(
    live_url: str, deployment: Deployment, project_config: ProjectConfig
) -> None:
    if isinstance(deployment, ContainerAppsDeployment):
        pytest.skip(f"{INGRESS}: a trickled request never reaches the app, so its time bounds do not apply")
    bounds = limits(project_config)
    head = RawConnection(live_url)
    body = RawConnection(live_url)
    body_headers = {"Content-Type": "application/json", "Content-Length": "100000"}
    started = time.monotonic()
    trickling = {"head": head, "body": body}
    try:
        head.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        body.send(body.request("POST", "/predict/custom", body_headers) + b'{"returns": [')
        cut_after: dict[str, float] = {}
        deadline = started + bounds.request_body_timeout_s + bounds.request_head_timeout_s + GRACE_S
        while trickling and time.monotonic() < deadline:
            for what, conn in list(trickling.items()):
                if not conn.send(b"1" if what == "body" else b"X") or conn.closed_by_server(TRICKLE_EVERY_S / 2):
                    cut_after[what] = time.monotonic() - started
                    del trickling[what]
        assert not trickling, f"still open after {time.monotonic() - started:.1f} s: {sorted(trickling)}"
        head_s, body_s = bounds.request_head_timeout_s, bounds.request_body_timeout_s
        assert head_s * 0.9 <= cut_after["head"] <= head_s + GRACE_S, cut_after
        assert body_s * 0.9 <= cut_after["body"] <= body_s + GRACE_S, cut_after
        for conn in (head, body):  # whatever arrived before the close is one 408 answer
            assert not conn.received or conn.received.startswith(b"HTTP/1.1 408 "), conn.received[:200]
    finally:
        head.close()
        body.close()
    health_keeps_answering(live_url)


def test_connections_beyond_the_per_worker_cap_get_503_with_retry_after(
    deployment_control: Deployment, project_config: ProjectConfig
) -> None:
    """Holds the deployment to itself: while the flood lasts, every other client of a full worker gets 503 too."""
    if isinstance(deployment_control, ContainerAppsDeployment):
        pytest.skip(f"{INGRESS}: the app's connections are the ingress's pool, not the client's")
    if isinstance(deployment_control, ExternalDeployment):
        pytest.skip("--api-url: the worker count and cap of a deployment this run did not configure are unknown")
    url = deployment_control.url
    overloaded_before = refusals(url, "overloaded")
    most = project_config.deployment.web_concurrency * limits(project_config).max_connections_per_worker + 8
    held: list[RawConnection] = []
    refused: RawAnswer | None = None
    try:
        while refused is None and len(held) < most:
            conn = RawConnection(url)
            held.append(conn)
            conn.send(conn.request("GET", "/health"))  # answered and kept alive: every connection stays counted
            answer = conn.answer()
            if answer.status == 503:
                refused = answer
                assert conn.closed_by_server(GRACE_S)
            else:
                assert answer.status == 200, (answer.status, answer.body[:300])
        assert refused is not None, f"{len(held)} connections, all answered 200"
        assert int(refused.headers["retry-after"]) >= 1 and b'"overloaded"' in refused.body
    finally:
        for conn in held:
            conn.close()
    health_keeps_answering(url)
    assert refusals(url, "overloaded") > overloaded_before


def test_wrong_keys_from_one_address_get_429_until_its_allowance_refills(
    live_url: str, deployment: Deployment, harness_options: HarnessOptions, project_config: ProjectConfig
) -> None:
    if not harness_options.api_key:
        pytest.skip("this deployment runs without API_KEY (deploy with --deploy-api-key): there is no key to guess")
    if deployment.environment != "process":
        pytest.skip(
            f"{deployment.environment}: Docker's port proxy (or an ingress) shows the service one client address for "
            "everyone, so tripping the limit would lock this session's other suites out"
        )
    bounds = limits(project_config)
    refill_s = math.ceil(bounds.wrong_key_window_s / bounds.wrong_key_limit)
    wrong, right = {"X-API-Key": "not-the-key"}, {"X-API-Key": harness_options.api_key}
    # One keep-alive connection from an address no other test uses: one worker, one allowance, all of it ours.
    with RawConnection(live_url, source=ANOTHER_LOOPBACK_ADDRESS) as guesser:
        statuses = []
        while len(statuses) <= bounds.wrong_key_limit:
            guesser.send(guesser.request("GET", "/models/list", wrong))
            statuses.append(guesser.answer().status)
        assert statuses == [401] * bounds.wrong_key_limit + [429]
        guesser.send(guesser.request("GET", "/models/list", right))
        refused = guesser.answer()  # a right guess is refused as well, or the limit would stop nothing
        assert refused.status == 429 and 1 <= int(refused.headers["retry-after"]) <= refill_s
        assert b'"too_many_wrong_keys"' in refused.body
        with httpx.Client(base_url=live_url, timeout=10) as others:  # the usual address is not affected
            assert others.get("/models/list", headers=right).status_code == 200
            assert others.get("/health").status_code == 200

        def allowed_again() -> bool:
            guesser.send(guesser.request("GET", "/models/list", right))
            return guesser.answer().status == 200

        wait_until(allowed_again, what="the right key to pass again", where=live_url, timeout_s=refill_s + GRACE_S,
                   interval_s=0.25)  # fmt: skip
