"""The pre-flight of a verify run: each way a deployment cannot be verified ends the run in one line, before any
test; a deployment that can be is described by its URL, version and served models."""

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from harness.preflight import PreflightFailed, preflight
from harness.pytest_plugin.verify_mode import api_key_option
from harness.synthetic_traffic import SYNTHETIC_HEADERS
from harness.verify_run import ROOT, run_verify

URL = "http://api.test"
HEALTHY = {
    "status": "healthy",
    "version": "1.2.3",
    "models_loaded": 2,
    "models": [{"name": "garch_1_1", "version": "v7", "digest": "sha256:ab"}, {"name": "egarch_1_1"}],
}


def deployment(health: tuple[int, Any], key: str | None = None) -> httpx.MockTransport:
    """A stand-in that answers /health as given and guards /models/list with `key`; every request it gets must be
    marked synthetic."""

    def answer(request: httpx.Request) -> httpx.Response:
        assert all(request.headers.get(name) == value for name, value in SYNTHETIC_HEADERS.items()), request.headers
        if request.url.path == "/health":
            status, body = health
            return httpx.Response(status, json=body) if isinstance(body, dict) else httpx.Response(status, text=body)
        if request.url.path == "/models/list":
            if key and request.headers.get("X-API-Key") != key:
                return httpx.Response(401, json={"error": "unauthorized"})
            return httpx.Response(200, json={"models": []})
        return httpx.Response(404)

    return httpx.MockTransport(answer)


def test_a_healthy_deployment_is_described_by_url_version_and_model_versions() -> None:
    target = preflight(f"{URL}/", "k", transport=deployment((200, HEALTHY), key="k"))
    assert target.describe() == f"{URL} (version 1.2.3; models: garch_1_1 v7, egarch_1_1 (built-in))"
    assert target.record() == {
        "environment": "external",
        "url": URL,
        "version": "1.2.3",
        "models": [
            {"name": "garch_1_1", "version": "v7", "digest": "sha256:ab"},
            {"name": "egarch_1_1", "version": None, "digest": None},
        ],
    }


@pytest.mark.parametrize(
    ("url", "health", "key", "given", "message"),
    [
        ("api.test:8001", (200, HEALTHY), None, None, "not an http(s) URL with a host: try --api-url http://api.test"),
        ("ftp://api.test", (200, HEALTHY), None, None, "not an http(s) URL with a host"),
        (URL, (404, "<html>Not Found</html>"), None, None, "is --api-url the GARCH volatility API?"),
        (URL, (200, {"status": "ok"}), None, None, "is --api-url the GARCH volatility API?"),
        (URL, (503, {**HEALTHY, "status": "loading"}), None, None, "not ready: /health answered 503"),
        (URL, (200, HEALTHY), "k", None, "requires an API key: pass --api-key KEY (or set API_KEY) (401 from"),
        (URL, (200, HEALTHY), "k", "wrong", "refused the key given by --api-key (401 from /models/list)"),
    ],
)
def test_a_deployment_that_cannot_be_verified_fails_in_one_line(
    url: str, health: tuple[int, Any], key: str | None, given: str | None, message: str
) -> None:
    with pytest.raises(PreflightFailed) as failed:
        preflight(url, given, transport=deployment(health, key))
    assert message in str(failed.value) and "\n" not in str(failed.value)


@pytest.fixture
def not_this_api() -> Iterator[str]:
    """Some other HTTP server on loopback: it answers every path with a page of its own."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>another service</html>")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def unused_loopback_url() -> str:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        return f"http://127.0.0.1:{server.server_port}"  # closed on leaving: nothing listens there any more


# One whole pytest run per kind of failure would cost seconds each; the pre-flight's own cases are above, and
# these two prove the run ends before any test with the pre-flight's one line (a dead address, as from the issue,
# and a page that is not this API, served for real).
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (unused_loopback_url, "cannot reach {url}/health ("),
        ("not_this_api", "{url}/health answered 200 (text/html) without this API's status"),
    ],
    ids=["unreachable", "not-this-api"],
)
def test_a_verify_run_that_cannot_work_stops_before_any_test_with_one_line(
    request: pytest.FixtureRequest, tmp_path: Path, url: Callable[[], str] | str, message: str
) -> None:
    address = request.getfixturevalue(url) if isinstance(url, str) else url()
    result = run_verify(address, None, tmp_path)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, lines
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and message.format(url=address) in lines[0], lines
    assert not (tmp_path / "reports" / "deployment.json").exists()


def test_an_api_key_without_a_deployment_to_send_it_to_is_refused_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "-m", "integration", "--api-key=k", "-p", "no:cacheprovider"]
    command += [f"--reports-dir={tmp_path}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, lines
    assert lines == [
        "ERROR: --api-key is the key of a deployment given by --api-url; to deploy with a key, use --deploy-api-key"
    ]


@pytest.mark.parametrize(
    ("options", "environment", "sent"),
    [
        ({"--api-url": URL, "--api-key": "given"}, "from-env", "given"),
        ({"--api-url": URL, "--deploy-api-key": "deployed"}, "from-env", "deployed"),
        ({"--api-url": URL}, "from-env", "from-env"),  # what `mlops-deploy --action test` relies on
        ({"--api-url": URL}, "", None),
        ({}, "from-env", None),  # a provisioned run sends only the key it deployed with
    ],
)
def test_the_key_sent_comes_from_the_options_then_api_key_in_the_environment(
    options: dict[str, str], environment: str, sent: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_KEY", environment)
    config = SimpleNamespace(getoption=lambda name: options.get(name))
    assert api_key_option(config) == sent  # type: ignore[arg-type]
